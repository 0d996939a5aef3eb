#pragma once
/// \file ValueView: reads one additional argument in place, straight from a message's bytes.

#include <flatbuffers/flexbuffers.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mlops/messaging/value.h"

namespace mlops::messaging {

/// A read-only view of a JSON-like value inside a verified message. Reading never
/// allocates (except to_value() and to_json()). Valid while the message it came from
/// (or a copy of it) lives. Asking for the wrong kind gives nullopt or an empty view,
/// never undefined behaviour. Thread-safety: a plain const view.
class ValueView {
 public:
  /// A null value.
  ValueView() noexcept = default;

  /// Which kind of value this is. Foreign FlexBuffers map onto these kinds:
  /// unsigned ints read as kInt, keys as kString, typed vectors as kList.
  [[nodiscard]] ValueType type() const noexcept;
  [[nodiscard]] bool is_null() const noexcept { return type() == ValueType::kNull; }

  /// The value if it is of that kind, else nullopt.
  [[nodiscard]] std::optional<bool> as_bool() const noexcept;
  [[nodiscard]] std::optional<std::int64_t> as_int() const noexcept;
  /// A double; an int reads as a double too (as JSON readers expect).
  [[nodiscard]] std::optional<double> as_double() const noexcept;
  [[nodiscard]] std::optional<std::string_view> as_string() const noexcept;
  [[nodiscard]] std::optional<std::span<const std::byte>> as_bytes() const noexcept;

  /// Number of elements of a list or entries of a map; 0 for anything else.
  [[nodiscard]] std::size_t size() const noexcept;
  /// Element `index` of a list, or the value of entry `index` of a map; null if out of range.
  [[nodiscard]] ValueView operator[](std::size_t index) const noexcept;
  /// Key of entry `index` of a map; empty if this is no map or index is out of range.
  [[nodiscard]] std::string_view key_at(std::size_t index) const noexcept;
  /// The value under `key` of a map (binary search, no allocation); nullopt if absent.
  [[nodiscard]] std::optional<ValueView> find(std::string_view key) const noexcept;

  /// An owned copy of the whole value.
  [[nodiscard]] Value to_value() const;
  /// JSON text of the value (bytes appear as a string).
  [[nodiscard]] std::string to_json() const;

  /// Wraps a FlexBuffers reference. Internal: the bytes must have been verified.
  explicit ValueView(flexbuffers::Reference ref) noexcept : ref_(ref) {}

 private:
  flexbuffers::Reference ref_;
};

}  // namespace mlops::messaging
