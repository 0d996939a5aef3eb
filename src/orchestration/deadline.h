#pragma once
// Timeouts as deadlines that cannot overflow. A caller may pass milliseconds::max() (or any
// huge timeout) to mean "no limit": `Clock::now() + timeout` would overflow the clock's
// nanoseconds (undefined behaviour; in practice a deadline in the past, so the wait returns
// at once), so every deadline is built here, from a timeout clamped to a far one.

#include <algorithm>
#include <chrono>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail {

/// The longest wait a timeout stands for: about 100 years. `Clock::now()` (time since boot)
/// plus this stays far inside the clock's range (about 292 years of nanoseconds), so
/// backends may still add to a deadline or turn what is left of it into nanoseconds.
inline constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(24 * 365 * 100);

/// `timeout` within [0, kMaxTimeout]: a negative timeout is no wait, a huge one a far one.
constexpr std::chrono::milliseconds clamp_timeout(std::chrono::milliseconds timeout) noexcept {
  return std::clamp(timeout, std::chrono::milliseconds::zero(), kMaxTimeout);
}

/// The deadline `timeout` from now (see clamp_timeout).
inline Deadline deadline_after(std::chrono::milliseconds timeout) noexcept {
  return Clock::now() + clamp_timeout(timeout);
}

}  // namespace mlops::orchestration::detail
