#include "mlops/messaging/value.h"

#include <algorithm>

#include "mlops/messaging/value_view.h"

namespace mlops::messaging {

std::string_view to_string(ValueType type) noexcept {
  switch (type) {
    case ValueType::kNull: return "null";
    case ValueType::kBool: return "bool";
    case ValueType::kInt: return "int";
    case ValueType::kDouble: return "double";
    case ValueType::kString: return "string";
    case ValueType::kBytes: return "bytes";
    case ValueType::kList: return "list";
    case ValueType::kMap: return "map";
  }
  return "unknown";
}

std::size_t Value::depth() const noexcept {
  std::size_t deepest = 0;
  if (const auto* list = if_list()) {
    for (const auto& element : *list) deepest = std::max(deepest, element.depth());
    return deepest + 1;
  }
  if (const auto* map = if_map()) {
    for (const auto& [key, element] : *map) deepest = std::max(deepest, element.depth());
    return deepest + 1;
  }
  return 0;
}

namespace {

bool is_list_type(flexbuffers::Type type) noexcept {
  return flexbuffers::IsTypedVector(type) || flexbuffers::IsFixedTypedVector(type) ||
         type == flexbuffers::FBT_VECTOR;
}

}  // namespace

ValueType ValueView::type() const noexcept {
  const auto type = ref_.GetType();
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
    default: return is_list_type(type) ? ValueType::kList : ValueType::kNull;
  }
}

std::optional<bool> ValueView::as_bool() const noexcept {
  if (type() != ValueType::kBool) return std::nullopt;
  return ref_.AsBool();
}

std::optional<std::int64_t> ValueView::as_int() const noexcept {
  if (type() != ValueType::kInt) return std::nullopt;
  return ref_.AsInt64();
}

std::optional<double> ValueView::as_double() const noexcept {
  const auto kind = type();
  if (kind != ValueType::kDouble && kind != ValueType::kInt) return std::nullopt;
  return ref_.AsDouble();
}

std::optional<std::string_view> ValueView::as_string() const noexcept {
  if (ref_.GetType() == flexbuffers::FBT_STRING) {
    const auto text = ref_.AsString();
    return std::string_view(text.c_str(), text.size());
  }
  if (ref_.GetType() == flexbuffers::FBT_KEY) return std::string_view(ref_.AsKey());
  return std::nullopt;
}

std::optional<std::span<const std::byte>> ValueView::as_bytes() const noexcept {
  if (type() != ValueType::kBytes) return std::nullopt;
  const auto blob = ref_.AsBlob();
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(blob.data()), blob.size());
}

std::size_t ValueView::size() const noexcept {
  const auto type = ref_.GetType();
  if (type == flexbuffers::FBT_MAP || type == flexbuffers::FBT_VECTOR) {
    return ref_.AsVector().size();
  }
  if (flexbuffers::IsTypedVector(type)) return ref_.AsTypedVector().size();
  if (flexbuffers::IsFixedTypedVector(type)) return ref_.AsFixedTypedVector().size();
  return 0;
}

ValueView ValueView::operator[](std::size_t index) const noexcept {
  if (index >= size()) return ValueView();
  const auto type = ref_.GetType();
  if (type == flexbuffers::FBT_MAP || type == flexbuffers::FBT_VECTOR) {
    return ValueView(ref_.AsVector()[index]);
  }
  if (flexbuffers::IsTypedVector(type)) return ValueView(ref_.AsTypedVector()[index]);
  return ValueView(ref_.AsFixedTypedVector()[index]);
}

std::string_view ValueView::key_at(std::size_t index) const noexcept {
  if (ref_.GetType() != flexbuffers::FBT_MAP) return {};
  const auto keys = ref_.AsMap().Keys();
  if (index >= keys.size()) return {};
  return keys[index].AsKey();
}

std::optional<ValueView> ValueView::find(std::string_view key) const noexcept {
  if (ref_.GetType() != flexbuffers::FBT_MAP) return std::nullopt;
  const auto map = ref_.AsMap();
  const auto keys = map.Keys();
  // Keys are sorted by strcmp, which orders like string_view's compare.
  std::size_t low = 0;
  std::size_t high = keys.size();
  while (low < high) {
    const std::size_t mid = low + (high - low) / 2;
    const int order = std::string_view(keys[mid].AsKey()).compare(key);
    if (order == 0) return ValueView(map.Values()[mid]);
    if (order < 0) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return std::nullopt;
}

Value ValueView::to_value() const {
  switch (type()) {
    case ValueType::kNull: return Value();
    case ValueType::kBool: return Value(*as_bool());
    case ValueType::kInt: return Value(*as_int());
    case ValueType::kDouble: return Value(*as_double());
    case ValueType::kString: return Value(*as_string());
    case ValueType::kBytes: {
      const auto bytes = *as_bytes();
      return Value(Value::Bytes(bytes.begin(), bytes.end()));
    }
    case ValueType::kList: {
      Value::List list;
      list.reserve(size());
      for (std::size_t i = 0; i < size(); ++i) list.push_back((*this)[i].to_value());
      return Value(std::move(list));
    }
    case ValueType::kMap: {
      Value::Map map;
      for (std::size_t i = 0; i < size(); ++i) {
        map.emplace(std::string(key_at(i)), (*this)[i].to_value());
      }
      return Value(std::move(map));
    }
  }
  return Value();
}

std::string ValueView::to_json() const {
  std::string text;
  // strict_json: quoted keys, so the output is JSON rather than FlexBuffers' own notation.
  ref_.ToString(true, true, text);
  return text;
}

}  // namespace mlops::messaging
