#include "orchestration/log_limiter.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace mlops::orchestration::detail {

LogLimiter::LogLimiter(LogLevel level, std::string prefix, std::chrono::milliseconds interval,
                       std::uint32_t burst)
    : level_(level),
      prefix_(std::move(prefix)),
      interval_(std::max(interval, std::chrono::milliseconds(1))),
      burst_(std::max<std::uint32_t>(burst, 1)),
      tokens_(burst_),
      refilled_(Clock::now()) {}

void LogLimiter::log(std::string_view text) noexcept {
  const auto now = Clock::now();
  std::uint64_t held = 0;
  Clock::duration held_for{};
  {
    const std::lock_guard lock(mutex_);
    if (tokens_ < burst_) {
      const auto gained = (now - refilled_) / interval_;
      if (gained > 0) {
        tokens_ = static_cast<std::uint32_t>(
            std::min<std::int64_t>(burst_, tokens_ + static_cast<std::int64_t>(gained)));
        refilled_ += gained * interval_;
      }
    } else {
      refilled_ = now;  // a full bucket gains nothing while it waits
    }
    if (tokens_ == 0) {
      if (held_++ == 0) first_held_ = now;
      return;
    }
    --tokens_;
    held = held_;
    held_for = now - first_held_;
    held_ = 0;
  }
  try {
    std::string line = prefix_ + ": ";
    line += text;
    if (held > 0) {
      std::array<char, 96> note{};
      (void)std::snprintf(note.data(), note.size(), " (%llu more not logged over the last %.1f s)",
                          static_cast<unsigned long long>(held),
                          std::chrono::duration<double>(held_for).count());
      line += note.data();
    }
    mlops::log(level_, line);
  } catch (...) {  // Out of memory, or a failing log hook: the caller goes on.
  }
}

std::uint64_t LogLimiter::held_back() const noexcept {
  const std::lock_guard lock(mutex_);
  return held_;
}

}  // namespace mlops::orchestration::detail
