#include "mlops/orchestration/orchestration_builder.h"

#include <cctype>

#include "orchestration/registry.h"
#include "orchestration/uri.h"

namespace mlops::orchestration {

OrchestrationBuilder& OrchestrationBuilder::with_orchestrator(std::string_view orchestrator) {
  orchestrator_ = std::string(orchestrator);
  return *this;
}

OrchestrationBuilder& OrchestrationBuilder::with_connection(std::string_view connection) {
  connection_ = std::string(connection);
  return *this;
}

OrchestrationBuilder& OrchestrationBuilder::with_option(std::string_view key,
                                                        std::string_view value) {
  options_.insert_or_assign(std::string(key), std::string(value));
  return *this;
}

Result<Orchestration> OrchestrationBuilder::build() const {
  if (!orchestrator_) {
    auto detected = Orchestration::detect();
    if (!detected || (!connection_ && options_.empty())) return detected;
    // The detected backend with the caller's connection and options.
    detail::Endpoint endpoint{detected->orchestrator(),
                              connection_.value_or(detected->connection()), detected->options()};
    for (const auto& [key, value] : options_) endpoint.options.insert_or_assign(key, value);
    return Orchestration::from_uri(detail::format_uri(endpoint));
  }
  std::string scheme;
  for (const char c : *orchestrator_) {
    scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto* entry = detail::find_backend(scheme);
  detail::Endpoint endpoint{
      scheme, connection_.value_or(entry ? std::string(entry->default_connection) : ""), options_};
  if (scheme.empty() || scheme.find_first_of(":/?") != std::string::npos) {
    return Error{ErrorCode::kInvalidArgument,
                 "orchestrator " + detail::quote_text(*orchestrator_) +
                     " is not a backend name such as 'inproc' or 'none'"};
  }
  return Orchestration::from_uri(detail::format_uri(endpoint));
}

}  // namespace mlops::orchestration
