#pragma once
/// \file Value: an owned JSON-like value (null, bool, int, double, string, bytes, list, map),
/// used to give nested additional arguments to a MessageBuilder and to copy them out of a message.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mlops/export.h"

namespace mlops::messaging {

/// The kinds of value an additional argument can hold.
enum class ValueType { kNull, kBool, kInt, kDouble, kString, kBytes, kList, kMap };

/// "null", "bool", "int", "double", "string", "bytes", "list", "map".
MLOPS_EXPORT std::string_view to_string(ValueType type) noexcept;

/// An owned JSON-like value. Building one allocates; for scalars, MessageBuilder
/// has overloads that write straight into the message without a Value.
///
///   Value params = Value::Map{{"lr", 0.001}, {"layers", Value::List{64, 32}}, {"name", "resnet"}};
///
/// Thread-safety: a plain value.
class MLOPS_EXPORT Value {
 public:
  using List = std::vector<Value>;
  /// Keys are unique and sorted; a key must not contain a NUL character.
  using Map = std::map<std::string, Value, std::less<>>;
  using Bytes = std::vector<std::byte>;

  /// Null.
  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}             // NOLINT(implicit)
  Value(bool value) noexcept : data_(value) {}  // NOLINT(implicit)
  /// Any integer type; stored as int64 (unsigned values above INT64_MAX wrap).
  template <std::integral I>
  requires(!std::same_as<I, bool>) Value(I value)
  noexcept : data_(static_cast<std::int64_t>(value)) {}           // NOLINT(implicit)
  Value(double value) noexcept : data_(value) {}                  // NOLINT(implicit)
  Value(const char* value) : data_(std::string(value)) {}         // NOLINT(implicit)
  Value(std::string_view value) : data_(std::string(value)) {}    // NOLINT(implicit)
  Value(std::string value) noexcept : data_(std::move(value)) {}  // NOLINT(implicit)
  Value(Bytes value) noexcept : data_(std::move(value)) {}        // NOLINT(implicit)
  Value(List value) noexcept : data_(std::move(value)) {}         // NOLINT(implicit)
  Value(Map value) noexcept : data_(std::move(value)) {}          // NOLINT(implicit)

  /// Which kind of value this is.
  [[nodiscard]] ValueType type() const noexcept { return static_cast<ValueType>(data_.index()); }

  /// The value if it is of that kind, else nullptr.
  [[nodiscard]] const bool* if_bool() const noexcept { return std::get_if<bool>(&data_); }
  [[nodiscard]] const std::int64_t* if_int() const noexcept {
    return std::get_if<std::int64_t>(&data_);
  }
  [[nodiscard]] const double* if_double() const noexcept { return std::get_if<double>(&data_); }
  [[nodiscard]] const std::string* if_string() const noexcept {
    return std::get_if<std::string>(&data_);
  }
  [[nodiscard]] const Bytes* if_bytes() const noexcept { return std::get_if<Bytes>(&data_); }
  [[nodiscard]] const List* if_list() const noexcept { return std::get_if<List>(&data_); }
  [[nodiscard]] const Map* if_map() const noexcept { return std::get_if<Map>(&data_); }

  /// How deeply lists and maps nest: 0 for a scalar, 1 for a flat list or map.
  [[nodiscard]] std::size_t depth() const noexcept;

  /// Deep equality (an int and a double are different values).
  friend bool operator==(const Value&, const Value&) = default;

 private:
  // The index order matches ValueType.
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Bytes, List, Map> data_;
};

}  // namespace mlops::messaging
