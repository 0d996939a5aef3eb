#pragma once
// The text of fbs/mlops_message.fbs, embedded at build time (CMake writes schema_text.cpp).

#include <string_view>

namespace mlops::messaging::detail {
extern const std::string_view kSchemaText;
}  // namespace mlops::messaging::detail
