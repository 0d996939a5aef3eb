#pragma once
/// \file The original library's JSON wire format ("legacy JSON"): encode and decode.
///
/// The original (Python, JSON over Kafka) put `json.dumps(msg.to_json()).encode()` on the
/// wire: one JSON object with the keys msg_type, topic, creator, creator_type, stage,
/// next_task, usr_msg, retries, output, recipient, add_data. These calls read and write
/// that form so old and new pipeline stages can share topics during a move.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mlops/export.h"
#include "mlops/messaging/mlops_message.h"
#include "mlops/messaging/value.h"
#include "mlops/result.h"

namespace mlops::messaging::legacy_json {

/// The largest legacy JSON payload decode() accepts unless told otherwise: 16 MiB.
inline constexpr std::size_t kDefaultMaxBytes = std::size_t{16} << 20;

/// What decode() holds untrusted JSON to.
struct MLOPS_EXPORT Limits {
  /// Longer input is refused with kTooLarge before it is parsed.
  std::size_t max_bytes = kDefaultMaxBytes;
  /// Deepest nesting of objects and arrays, the message's own object counting as 1
  /// (so add_data may nest 63 levels, as MessageBuilder allows). At most 64.
  std::size_t max_depth = 64;
};

/// True when `bytes` may be legacy JSON: after optional whitespace (and a UTF-8 BOM) it
/// starts with '{'. A FlatBuffers message never does (its first 4 bytes are a small
/// little-endian root offset). Cheap: the consumer asks it of every payload that is not
/// one of our messages before trying decode().
[[nodiscard]] MLOPS_EXPORT bool looks_like(std::span<const std::uint8_t> bytes) noexcept;

/// The original's JSON for `message`, byte for byte what Python's
/// `json.dumps(msg.to_json())` writes (", " and ": " separators, non-ASCII as \uXXXX,
/// NaN/Infinity as Python writes them), except that add_data's keys come sorted.
/// Text that is not valid UTF-8 has its bad bytes replaced by U+FFFD.
///
///   auto json = legacy_json::encode(MessageBuilder().with_user_msg("hi").build());
///   // {"msg_type": "OTHER", "topic": null, ..., "usr_msg": "hi", ...}
///
/// @return the JSON text, or kInvalidArgument when an additional argument holds bytes
///         (JSON has no bytes; the original could not send them either).
[[nodiscard]] MLOPS_EXPORT Result<std::string> encode(const MLOpsMessage& message);

/// Rebuilds a message from the original's JSON through a MessageBuilder (so creator_type
/// is normalised again, and the message gets a fresh id and timestamp). A str field
/// reads back as one value and a list as a list; add_data as with_additional_data()
/// gives it (a JSON object becomes one additional argument per key, anything else the
/// argument "additional_data"). A missing or null key leaves its field unset; unknown
/// keys are ignored; an object with none of the eleven keys is refused.
/// Never throws, never aborts: every problem is an error value saying what was wrong.
/// @return the verified message, or kEmpty (no bytes), kTooLarge (longer than
///         limits.max_bytes), kInvalidArgument (not JSON, nested deeper than
///         limits.max_depth, not an object, no message key, a field of the wrong type, an
///         unknown msg_type or stage text, retries outside 32 bits).
[[nodiscard]] MLOPS_EXPORT Result<MLOpsMessage> decode(std::string_view json,
                                                       const Limits& limits = {});
/// As above, for bytes (a broker payload).
[[nodiscard]] MLOPS_EXPORT Result<MLOpsMessage> decode(std::span<const std::uint8_t> bytes,
                                                       const Limits& limits = {});

/// Parses any JSON text into a Value (objects become maps, arrays lists; integers that fit
/// int64 stay ints, other numbers doubles), held to `limits`.
/// @return the value, or an error as decode() for text that is not JSON.
[[nodiscard]] MLOPS_EXPORT Result<Value> parse(std::string_view json, const Limits& limits = {});

/// Appends `value` as Python's json.dumps writes it (", " and ": ", ASCII only).
/// @return kInvalidArgument if it holds bytes (JSON has none), else nothing.
[[nodiscard]] MLOPS_EXPORT Result<void> write(const Value& value, std::string& out);

}  // namespace mlops::messaging::legacy_json
