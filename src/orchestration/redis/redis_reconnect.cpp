#include "orchestration/redis/redis_reconnect.h"

#include <algorithm>
#include <thread>

namespace mlops::orchestration::detail::redis {

std::unique_ptr<Connection> Reconnector::open(const RedisSettings& settings, Deadline deadline,
                                              LogLimiter& problems) noexcept {
  if (Clock::now() < next_attempt_) {
    if (next_attempt_ > deadline) return nullptr;
    std::this_thread::sleep_until(next_attempt_);
  }
  auto opened = Connection::open(settings, std::min(deadline, Clock::now() + settings.timeout));
  if (!opened) {
    backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, settings.reconnect_backoff);
    next_attempt_ = Clock::now() + backoff_;
    problems.log(opened.error().message);
    return nullptr;
  }
  backoff_ = std::chrono::milliseconds(0);
  return std::move(*opened);
}

void Reconnector::lost(const RedisSettings& settings) noexcept {
  backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, settings.reconnect_backoff);
  next_attempt_ = Clock::now() + kFirstBackoff;
}

}  // namespace mlops::orchestration::detail::redis
