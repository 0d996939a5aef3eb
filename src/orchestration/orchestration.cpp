#include "mlops/orchestration/orchestration.h"

#include <cstdlib>

#include "orchestration/registry.h"
#include "orchestration/uri.h"
#include "orchestration/wire_option.h"

namespace mlops::orchestration {
namespace {

std::string known_schemes() {
  std::string names;
  for (const auto& entry : detail::backends()) {
    if (!names.empty()) names += ", ";
    names += entry.scheme;
  }
  return names;
}

}  // namespace

Result<Orchestration> Orchestration::from_uri(std::string_view uri) {
  auto endpoint = detail::parse_uri(uri);
  if (!endpoint) return endpoint.error();
  const auto* entry = detail::find_backend(endpoint->scheme);
  if (entry == nullptr) {
    return Error{ErrorCode::kInvalidArgument,
                 "unknown orchestrator " + detail::quote_text(endpoint->scheme) + " in URI " +
                     detail::quote_text(detail::redact_uri(uri)) +
                     "; this build has: " + known_schemes()};
  }
  // `wire` is the Producer's (wire_option.h), not the backend's: checked here, kept in the
  // URI for producers, and not shown to the backend.
  if (auto wire = detail::read_wire_option(endpoint->options); !wire) return wire.error();
  auto backend = entry->open(detail::Endpoint{endpoint->scheme, endpoint->connection,
                                              detail::without_wire_option(endpoint->options)});
  if (!backend) return backend.error();
  Orchestration orchestration;
  orchestration.orchestrator_ = std::move(endpoint->scheme);
  orchestration.connection_ = std::move(endpoint->connection);
  orchestration.options_ = std::move(endpoint->options);
  orchestration.backend_ = std::move(*backend);
  return orchestration;
}

Result<Orchestration> Orchestration::detect() {
  const std::string variable(kEnvironmentVariable);
  const char* value = std::getenv(variable.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr || *value == '\0') return from_uri(kDefaultUri);
  auto orchestration = from_uri(value);
  if (!orchestration) {
    return Error{orchestration.error().code, "$" + variable + ": " + orchestration.error().message};
  }
  return orchestration;
}

std::string Orchestration::uri() const {
  return detail::format_uri(detail::Endpoint{orchestrator_, connection_, options_});
}

std::string Orchestration::redacted_uri() const { return detail::redact_uri(uri()); }

}  // namespace mlops::orchestration
