// MLOpsMessage.__eq__ by fields, not bytes (see message_equality.h).
#include "message_equality.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

namespace mlops::python {
namespace {

using messaging::StringList;
using messaging::ValueType;
using messaging::ValueView;

bool same_list(const StringList& a, const StringList& b) noexcept {
  if (a.is_list() != b.is_list() || a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool same_value(const ValueView& a, const ValueView& b) noexcept {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case ValueType::kNull: return true;
    case ValueType::kBool: return a.as_bool() == b.as_bool();
    case ValueType::kInt: return a.as_int() == b.as_int();
    case ValueType::kDouble: {
      const double x = a.as_double().value_or(0.0);
      const double y = b.as_double().value_or(0.0);
      return x == y || (std::isnan(x) && std::isnan(y));  // a message equals itself
    }
    case ValueType::kString: return a.as_string() == b.as_string();
    case ValueType::kBytes: {
      const auto x = a.as_bytes().value_or(std::span<const std::byte>());
      const auto y = b.as_bytes().value_or(std::span<const std::byte>());
      return std::equal(x.begin(), x.end(), y.begin(), y.end());
    }
    case ValueType::kList:
    case ValueType::kMap: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (a.type() == ValueType::kMap && a.key_at(i) != b.key_at(i)) return false;
        if (!same_value(a[i], b[i])) return false;
      }
      return true;
    }
  }
  return false;
}

bool same_arguments(const messaging::MLOpsMessage& a, const messaging::MLOpsMessage& b) noexcept {
  const std::size_t count = a.additional_argument_count();
  if (count != b.additional_argument_count()) return false;
  for (std::size_t i = 0; i < count; ++i) {  // sorted by key in every valid message
    const auto x = a.additional_argument_at(i);
    const auto y = b.additional_argument_at(i);
    if (x.key != y.key || !same_value(x.value, y.value)) return false;
  }
  return true;
}

}  // namespace

bool same_fields(const messaging::MLOpsMessage& a, const messaging::MLOpsMessage& b) noexcept {
  const auto x = a.bytes();
  const auto y = b.bytes();
  if (std::equal(x.begin(), x.end(), y.begin(), y.end())) return true;
  return a.message_type() == b.message_type() && same_list(a.topic(), b.topic()) &&
         a.creator() == b.creator() && a.creator_type() == b.creator_type() &&
         a.stage() == b.stage() && same_list(a.next_task(), b.next_task()) &&
         a.user_message() == b.user_message() && a.retries() == b.retries() &&
         same_list(a.output(), b.output()) && same_list(a.recipient(), b.recipient()) &&
         a.key() == b.key() && a.trace_context() == b.trace_context() && a.id() == b.id() &&
         a.timestamp() == b.timestamp() && same_arguments(a, b);
}

}  // namespace mlops::python
