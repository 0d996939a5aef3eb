#pragma once
// The backends this build has, keyed by URI scheme (registry.cpp holds the table).

#include <memory>
#include <span>
#include <string_view>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail {

/// Opens `endpoint` (the scheme already matched). Must not block on the network.
using BackendOpener = Result<std::shared_ptr<Backend>> (*)(const Endpoint& endpoint);

/// One registered backend.
struct BackendEntry {
  /// The URI scheme, lower case.
  std::string_view scheme;
  /// The connection OrchestrationBuilder uses when none is given.
  std::string_view default_connection;
  BackendOpener open;
};

/// Every backend of this build, in registration order.
std::span<const BackendEntry> backends() noexcept;
/// The backend for `scheme` (lower case), or nullptr.
const BackendEntry* find_backend(std::string_view scheme) noexcept;

}  // namespace mlops::orchestration::detail
