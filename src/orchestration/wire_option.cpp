#include "orchestration/wire_option.h"

#include <string>

namespace mlops::orchestration::detail {

Result<std::optional<WireFormat>> read_wire_option(const BackendOptions& options) {
  const auto found = options.find(kWireOption);
  if (found == options.end()) return std::optional<WireFormat>();
  if (found->second == "flatbuffers") return std::optional<WireFormat>(WireFormat::kFlatBuffers);
  if (found->second == "legacy-json") return std::optional<WireFormat>(WireFormat::kLegacyJson);
  return Error{ErrorCode::kInvalidArgument,
               "option wire='" + found->second + "' is not flatbuffers or legacy-json"};
}

BackendOptions without_wire_option(BackendOptions options) {
  if (const auto found = options.find(kWireOption); found != options.end()) options.erase(found);
  return options;
}

}  // namespace mlops::orchestration::detail
