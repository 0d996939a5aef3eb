#pragma once
// Host name resolution bounded by a deadline. hiredis resolves with getaddrinfo(), which
// blocks for as long as the system resolver likes (resolv.conf's timeouts and attempts, per
// server: easily 10 s or more), past any timeout_ms. A numeric address needs no resolving;
// a name is resolved on a helper thread that the caller stops waiting for at its deadline.

#include <string>
#include <vector>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail::redis {

/// `host` as numeric addresses hiredis connects to without resolving: itself if numeric,
/// else the addresses getaddrinfo() gives for it by `deadline`, in its order.
/// @return the addresses (at least one), or kUnavailable (unknown name, or no answer by the
/// deadline: the
///         lookup then finishes on its own thread, which frees what it used).
Result<std::vector<std::string>> numeric_hosts(const std::string& host, Deadline deadline);

}  // namespace mlops::orchestration::detail::redis
