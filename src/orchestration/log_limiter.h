#pragma once
// Rate-limits one component's problem log lines, so a long outage neither floods the log
// nor falls silent: a burst of lines passes, then one line per interval, and the first line
// after some were held back says how many and over how long.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "mlops/log.h"

namespace mlops::orchestration::detail {

/// Lines a LogLimiter lets through at once before it limits them.
inline constexpr std::uint32_t kLogBurst = 10;
/// How often a LogLimiter lets a line through once its burst is spent, unless told.
inline constexpr std::chrono::milliseconds kLogInterval{10'000};

/// A token bucket of `burst` lines that refills one line per `interval`. Thread-safe; meant
/// for failure paths (it takes a lock), never for a per-message path.
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// Lines go out as "<prefix>: <text>" at `level`.
  LogLimiter(LogLevel level, std::string prefix, std::chrono::milliseconds interval = kLogInterval,
             std::uint32_t burst = kLogBurst);

  /// Logs `text`, or counts it as held back when over the rate. Never throws (a failing log
  /// hook is ignored).
  void log(std::string_view text) noexcept;
  /// Lines held back since the last one logged.
  [[nodiscard]] std::uint64_t held_back() const noexcept;

 private:
  const LogLevel level_;
  const std::string prefix_;
  const Clock::duration interval_;
  const std::uint32_t burst_;
  mutable std::mutex mutex_;
  std::uint32_t tokens_;
  Clock::time_point refilled_;
  std::uint64_t held_ = 0;
  Clock::time_point first_held_{};
};

}  // namespace mlops::orchestration::detail
