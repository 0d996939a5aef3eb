#pragma once
// none: every call succeeds as a no-op; one warning is logged per process.

#include <memory>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail::none {

/// Opens the none backend; `none:` takes no connection and ignores options.
Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint);

}  // namespace mlops::orchestration::detail::none
