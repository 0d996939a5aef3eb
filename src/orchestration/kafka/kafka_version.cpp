#include "orchestration/kafka/kafka_version.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace mlops::orchestration::detail::kafka {
namespace {

// Whether the comma-separated `list` names `wanted` (ignoring case and blanks).
bool names(std::string_view list, std::string_view wanted) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())) != 0)
      item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())) != 0)
      item.remove_suffix(1);
    if (std::ranges::equal(item, wanted, [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool names_cooperative_assignor(std::string_view strategy) {
  return names(strategy, "cooperative-sticky");
}

std::string version_text(int version) {
  return std::to_string((version >> 24) & 0xff) + "." + std::to_string((version >> 16) & 0xff) +
         "." + std::to_string((version >> 8) & 0xff);
}

Result<void> check_consumer_properties(const BackendOptions& properties, int runtime_version) {
  const auto strategy = properties.find("partition.assignment.strategy");
  if (strategy != properties.end() && runtime_version < kCooperativeCloseFixedVersion &&
      names(strategy->second, "cooperative-sticky")) {
    return Error{ErrorCode::kInvalidArgument,
                 "kafka property partition.assignment.strategy='" + strategy->second +
                     "': the cooperative-sticky assignor needs librdkafka " +
                     version_text(kCooperativeCloseFixedVersion) + " or later (this process runs " +
                     version_text(runtime_version) +
                     "), which aborts the process when such a consumer closes before its first "
                     "assignment; use range or roundrobin (the default, 'range,roundrobin')"};
  }
  return {};
}

}  // namespace mlops::orchestration::detail::kafka
