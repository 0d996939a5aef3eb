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
    const auto type = ref_.GetType();
    if (type == flexbuffers::FBT_INT) return ref_.AsInt64();  // the common case, tested once
    if (kind_of(type) != ValueType::kInt) return std::nullopt;
    return ref_.AsInt64();
  }
  /// A double; an int reads as a double too (as JSON readers expect).
  [[nodiscard]] std::optional<double> as_double() const noexcept {
    const auto type = ref_.GetType();
    if (type == flexbuffers::FBT_FLOAT) return ref_.AsDouble();  // the common case, tested once
    const auto kind = kind_of(type);
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
    if (type == flexbuffers::FBT_MAP || type == flexbuffers::FBT_VECTOR)
      return ref_.AsVector().size();
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
  /// The elements of a list or the entries of a map, located once for a loop over them
  /// (size(), operator[] and key_at() locate the container again on every call):
  ///
  ///   const auto entries = view.entries();
  ///   for (std::size_t i = 0; i < entries.size(); ++i) use(entries.key(i), entries[i]);
  ///
  /// Empty for anything else. Valid, like the view, while its message lives.
  class Entries;
  [[nodiscard]] Entries entries() const noexcept;
  /// The value under `key` of a map (binary search, no allocation); nullopt if absent.
  [[nodiscard]] std::optional<ValueView> find(std::string_view key) const noexcept;

  /// An owned copy of the whole value.
  [[nodiscard]] Value to_value() const;
  /// JSON text of the value (bytes appear as a string).
  [[nodiscard]] std::string to_json() const;

  /// Wraps a FlexBuffers reference. Internal: the bytes must have been verified.
  explicit ValueView(flexbuffers::Reference ref) noexcept : ref_(ref) {}

 private:
  // One table load instead of a chain of comparisons: type() and then as_int() (say) each
  // classify the type, and readers call both for every value.
  // 64 entries: every type a packed byte (6 bits) can name.
  static constexpr ValueType kKinds[64] = {
      ValueType::kNull,    // FBT_NULL
      ValueType::kInt,     // FBT_INT
      ValueType::kInt,     // FBT_UINT
      ValueType::kDouble,  // FBT_FLOAT
      ValueType::kString,  // FBT_KEY
      ValueType::kString,  // FBT_STRING
      ValueType::kInt,     // FBT_INDIRECT_INT
      ValueType::kInt,     // FBT_INDIRECT_UINT
      ValueType::kDouble,  // FBT_INDIRECT_FLOAT
      ValueType::kMap,     // FBT_MAP
      ValueType::kList,    // FBT_VECTOR
      // FBT_VECTOR_INT .. FBT_VECTOR_STRING_DEPRECATED: typed vectors
      ValueType::kList, ValueType::kList, ValueType::kList, ValueType::kList, ValueType::kList,
      // FBT_VECTOR_INT2 .. FBT_VECTOR_FLOAT4: fixed typed vectors
      ValueType::kList, ValueType::kList, ValueType::kList, ValueType::kList, ValueType::kList,
      ValueType::kList, ValueType::kList, ValueType::kList, ValueType::kList,
      ValueType::kBytes,  // FBT_BLOB
      ValueType::kBool,   // FBT_BOOL
      // 27 .. 35: unused (no verified buffer holds them)
      ValueType::kNull, ValueType::kNull, ValueType::kNull, ValueType::kNull, ValueType::kNull,
      ValueType::kNull, ValueType::kNull, ValueType::kNull, ValueType::kNull,
      ValueType::kList,  // FBT_VECTOR_BOOL
                         // 37 .. 63: no FlexBuffers type (kNull, the value-initialised rest)
  };
  static_assert(flexbuffers::FBT_VECTOR_BOOL == 36 && flexbuffers::FBT_MAX_TYPE == 37 &&
                flexbuffers::FBT_BLOB == 25 && flexbuffers::FBT_BOOL == 26);

  static ValueType kind_of(flexbuffers::Type type) noexcept {
    // A type comes from 6 bits of a packed byte: the mask is a bound, not a branch.
    return kKinds[static_cast<std::size_t>(type) & (std::size(kKinds) - 1)];
  }

  flexbuffers::Reference ref_;
};

/// See ValueView::entries(). A plain const view; no allocation.
class MLOPS_EXPORT ValueView::Entries {
 public:
  /// Number of elements of the list or entries of the map.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Element `index` of the list, or the value of entry `index` of the map; null if out of range.
  [[nodiscard]] ValueView operator[](std::size_t index) const noexcept {
    if (!untyped_) [[unlikely]] {
      return typed_at(index);
    }
    return ValueView(values_[index]);  // flexbuffers gives a null past the end
  }
  /// Key of entry `index` of the map; empty for a list or if index is out of range.
  [[nodiscard]] std::string_view key(std::size_t index) const noexcept {
    return keys_[index].AsKey();  // past the end: a null, whose AsKey() is ""
  }

 private:
  friend class ValueView;
  Entries(flexbuffers::Vector values, flexbuffers::TypedVector keys) noexcept
      : values_(values), keys_(keys), size_(values.size()) {}
  explicit Entries(ValueView list) noexcept
      : values_(flexbuffers::Vector::EmptyVector()),
        keys_(flexbuffers::TypedVector::EmptyTypedVector()),
        list_(list),
        size_(list.size()),
        untyped_(size_ == 0) {}
  // Element `index` of a typed vector (foreign writers), the view's own way; out of line.
  [[nodiscard]] ValueView typed_at(std::size_t index) const noexcept;

  // Maps and untyped vectors (all that MessageBuilder writes): their values, and a map's keys.
  flexbuffers::Vector values_;
  flexbuffers::TypedVector keys_;
  ValueView list_;  // a typed vector, read through ValueView::operator[]
  std::size_t size_ = 0;
  bool untyped_ = true;
};

inline ValueView::Entries ValueView::entries() const noexcept {
  switch (ref_.GetType()) {
    case flexbuffers::FBT_MAP: {
      const auto map = ref_.AsMap();
      return Entries(map.Values(), map.Keys());
    }
    case flexbuffers::FBT_VECTOR:
      return Entries(ref_.AsVector(), flexbuffers::TypedVector::EmptyTypedVector());
    default: return Entries(*this);
  }
}

}  // namespace mlops::messaging
