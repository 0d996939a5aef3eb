#pragma once
/// \file OrchestrationBuilder: the original's way to name an orchestrator and a connection.

#include <optional>
#include <string>
#include <string_view>

#include "mlops/export.h"
#include "mlops/orchestration/backend_options.h"
#include "mlops/orchestration/orchestration.h"
#include "mlops/result.h"

namespace mlops::orchestration {

/// Builds an Orchestration from its parts, as the original did:
///
///   auto orch =
///   OrchestrationBuilder().with_orchestrator("inproc").with_connection("demo").build();
///
/// A missing orchestrator is detected (Orchestration::detect()); a missing connection is
/// the backend's default (inproc: "default"). A later call overwrites an earlier one.
/// Thread-safety: none; use one builder per thread.
class MLOPS_EXPORT OrchestrationBuilder {
 public:
  /// The backend: "none", "inproc", ... (case-insensitive).
  OrchestrationBuilder& with_orchestrator(std::string_view orchestrator);
  /// Where it is: an inproc broker name, a Kafka bootstrap list, ...
  OrchestrationBuilder& with_connection(std::string_view connection);
  /// One option passed through to the backend.
  OrchestrationBuilder& with_option(std::string_view key, std::string_view value);

  /// @return the orchestration, or the error Orchestration::from_uri() or detect() gives.
  [[nodiscard]] Result<Orchestration> build() const;

 private:
  std::optional<std::string> orchestrator_;
  std::optional<std::string> connection_;
  BackendOptions options_;
};

}  // namespace mlops::orchestration
