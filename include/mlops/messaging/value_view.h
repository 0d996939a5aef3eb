#pragma once
/// \file ValueView: reads one additional argument in place, straight from a message's bytes.

#include <flatbuffers/flexbuffers.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mlops/export.h"
#include "mlops/messaging/value.h"

namespace mlops::messaging {

/// A read-only view of a JSON-like value inside a verified message. Reading never
/// allocates (except to_value() and to_json()). Valid while the message it came from
/// (or a copy of it) lives. Asking for the wrong kind gives nullopt or an empty view,
/// never undefined behaviour. Thread-safety: a plain const view.
class MLOPS_EXPORT ValueView {
 public:
  /// A null value.
  ValueView() noexcept = default;

  /// Which kind of value this is. Foreign FlexBuffers map onto these kinds:
  /// unsigned ints read as kInt, keys as kString, typed vectors as kList.
  [[nodiscard]] ValueType type() const noexcept { return kind_of(ref_.GetType()); }
  [[nodiscard]] bool is_null() const noexcept { return ref_.GetType() == flexbuffers::FBT_NULL; }

  /// The value if it is of that kind, else nullopt.
  [[nodiscard]] std::optional<bool> as_bool() const noexcept {
    if (ref_.GetType() != flexbuffers::FBT_BOOL) return std::nullopt;
    return ref_.AsBool();
  }
  [[nodiscard]] std::optional<std::int64_t> as_int() const noexcept {
    if (kind_of(ref_.GetType()) != ValueType::kInt) return std::nullopt;
    return ref_.AsInt64();
  }
  /// A double; an int reads as a double too (as JSON readers expect).
  [[nodiscard]] std::optional<double> as_double() const noexcept {
    const auto kind = kind_of(ref_.GetType());
    if (kind != ValueType::kDouble && kind != ValueType::kInt) return std::nullopt;
    return ref_.AsDouble();
  }
  [[nodiscard]] std::optional<std::string_view> as_string() const noexcept {
    if (ref_.GetType() == flexbuffers::FBT_STRING) {
      const auto text = ref_.AsString();
      return std::string_view(text.c_str(), text.size());
    }
    if (ref_.GetType() == flexbuffers::FBT_KEY) return std::string_view(ref_.AsKey());
    return std::nullopt;
  }
  [[nodiscard]] std::optional<std::span<const std::byte>> as_bytes() const noexcept {
    if (ref_.GetType() != flexbuffers::FBT_BLOB) return std::nullopt;
    const auto blob = ref_.AsBlob();
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(blob.data()), blob.size());
  }

  /// Number of elements of a list or entries of a map; 0 for anything else.
  [[nodiscard]] std::size_t size() const noexcept {
    const auto type = ref_.GetType();
    if (type == flexbuffers::FBT_MAP || type == flexbuffers::FBT_VECTOR) return ref_.AsVector().size();
    if (flexbuffers::IsTypedVector(type)) return ref_.AsTypedVector().size();
    if (flexbuffers::IsFixedTypedVector(type)) return ref_.AsFixedTypedVector().size();
    return 0;
  }
  /// Element `index` of a list, or the value of entry `index` of a map; null if out of range.
  [[nodiscard]] ValueView operator[](std::size_t index) const noexcept {
    const auto type = ref_.GetType();
    if (type == flexbuffers::FBT_MAP || type == flexbuffers::FBT_VECTOR) {
      const auto vector = ref_.AsVector();
      return index < vector.size() ? ValueView(vector[index]) : ValueView();
    }
    if (flexbuffers::IsTypedVector(type)) {
      const auto vector = ref_.AsTypedVector();
      return index < vector.size() ? ValueView(vector[index]) : ValueView();
    }
    if (flexbuffers::IsFixedTypedVector(type)) {
      const auto vector = ref_.AsFixedTypedVector();
      return index < vector.size() ? ValueView(vector[index]) : ValueView();
    }
    return ValueView();
  }
  /// Key of entry `index` of a map; empty if this is no map or index is out of range.
  [[nodiscard]] std::string_view key_at(std::size_t index) const noexcept {
    if (ref_.GetType() != flexbuffers::FBT_MAP) return {};
    const auto keys = ref_.AsMap().Keys();
    return index < keys.size() ? std::string_view(keys[index].AsKey()) : std::string_view();
  }
  /// The value under `key` of a map (binary search, no allocation); nullopt if absent.
  [[nodiscard]] std::optional<ValueView> find(std::string_view key) const noexcept;

  /// An owned copy of the whole value.
  [[nodiscard]] Value to_value() const;
  /// JSON text of the value (bytes appear as a string).
  [[nodiscard]] std::string to_json() const;

  /// Wraps a FlexBuffers reference. Internal: the bytes must have been verified.
  explicit ValueView(flexbuffers::Reference ref) noexcept : ref_(ref) {}

 private:
  static ValueType kind_of(flexbuffers::Type type) noexcept {
    switch (type) {
      case flexbuffers::FBT_NULL: return ValueType::kNull;
      case flexbuffers::FBT_BOOL: return ValueType::kBool;
      case flexbuffers::FBT_INT:
      case flexbuffers::FBT_UINT:
      case flexbuffers::FBT_INDIRECT_INT:
      case flexbuffers::FBT_INDIRECT_UINT: return ValueType::kInt;
      case flexbuffers::FBT_FLOAT:
      case flexbuffers::FBT_INDIRECT_FLOAT: return ValueType::kDouble;
      case flexbuffers::FBT_STRING:
      case flexbuffers::FBT_KEY: return ValueType::kString;
      case flexbuffers::FBT_BLOB: return ValueType::kBytes;
      case flexbuffers::FBT_MAP: return ValueType::kMap;
      case flexbuffers::FBT_VECTOR: return ValueType::kList;
      default:
        return flexbuffers::IsTypedVector(type) || flexbuffers::IsFixedTypedVector(type)
                   ? ValueType::kList
                   : ValueType::kNull;
    }
  }

  flexbuffers::Reference ref_;
};

}  // namespace mlops::messaging
