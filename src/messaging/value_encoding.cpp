#include "messaging/value_encoding.h"

#include <stdexcept>
#include <string>

namespace mlops::messaging::detail {

void encode_value(flexbuffers::Builder& flex, const Value& value) {
  switch (value.type()) {
    case ValueType::kNull: flex.Null(); return;
    case ValueType::kBool: flex.Bool(*value.if_bool()); return;
    case ValueType::kInt: flex.Int(*value.if_int()); return;
    case ValueType::kDouble: flex.Double(*value.if_double()); return;
    case ValueType::kString: {
      const auto& text = *value.if_string();
      flex.String(text.data(), text.size());
      return;
    }
    case ValueType::kBytes: {
      const auto& bytes = *value.if_bytes();
      flex.Blob(bytes.data(), bytes.size());
      return;
    }
    case ValueType::kList: {
      const auto start = flex.StartVector();
      for (const auto& element : *value.if_list()) encode_value(flex, element);
      flex.EndVector(start, false, false);
      return;
    }
    case ValueType::kMap: {
      const auto start = flex.StartMap();
      for (const auto& [key, element] : *value.if_map()) {
        if (key.find('\0') != std::string::npos) {
          throw std::invalid_argument("mlops: map key contains a NUL character");
        }
        flex.Key(key.data(), key.size());
        encode_value(flex, element);
      }
      flex.EndMap(start);
      return;
    }
  }
}

}  // namespace mlops::messaging::detail
