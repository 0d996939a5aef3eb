#pragma once
// Writing JSON text exactly as Python's json.dumps does by default (ensure_ascii, repr of
// floats), so the original's readers and byte comparisons see what the original wrote.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mlops::messaging::legacy_json::detail {

/// Appends `text` as a JSON string: ASCII only (\uXXXX, surrogate pairs above U+FFFF),
/// Python's escapes; bytes that are not valid UTF-8 become U+FFFD.
void append_string(std::string& out, std::string_view text);

/// Appends `value` as Python's repr(float) (json.dumps's form): "1.0", "1e-05", "1e+16",
/// "NaN", "Infinity", "-Infinity".
void append_double(std::string& out, double value);

/// Appends a decimal integer.
void append_int(std::string& out, std::int64_t value);

/// `text` from untrusted input made safe for an error message: printable ASCII as is, every
/// other byte as \xNN (so the message is valid UTF-8 whatever came in), cut after `limit`
/// bytes with "...".
std::string printable(std::string_view text, std::size_t limit = 64);

}  // namespace mlops::messaging::legacy_json::detail
