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

ValueView ValueView::Entries::typed_at(std::size_t index) const noexcept { return list_[index]; }

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
