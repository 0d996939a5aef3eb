#pragma once
// inproc: named brokers inside one process (inproc://NAME?max_messages=N&max_bytes=B).

#include <memory>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail::inproc {

/// Opens (or creates) the broker the endpoint names.
Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint);

}  // namespace mlops::orchestration::detail::inproc
