#pragma once
// When a producer or consumer may connect again after a failure: attempts spaced by a
// backoff that doubles up to reconnect_backoff_ms, waited out only within the caller's
// deadline. Shared by RedisProducer and RedisConsumer, which differ only in what a lost
// connection costs them.

#include <chrono>
#include <memory>

#include "orchestration/log_limiter.h"
#include "orchestration/redis/redis_connection.h"

namespace mlops::orchestration::detail::redis {

/// The first pause after a failure.
inline constexpr std::chrono::milliseconds kFirstBackoff{50};

/// Not thread-safe (its owner's lock or thread guards it).
class Reconnector {
 public:
  /// A new connection by `deadline` (and within timeout_ms), after the backoff if it ends
  /// before `deadline`. @return nullptr when none, the reason logged to `problems`.
  std::unique_ptr<Connection> open(const RedisSettings& settings, Deadline deadline,
                                   LogLimiter& problems) noexcept;
  /// A connection broke: the next attempt waits kFirstBackoff, later failed ones longer.
  void lost(const RedisSettings& settings) noexcept;

 private:
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace mlops::orchestration::detail::redis
