#pragma once
// Named points in the writer where tests kill it (SIGKILL) to prove recovery, or stall it
// to prove readers step over it. Off unless a test arms one; costs one relaxed load per point.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <thread>

namespace mlops::orchestration::detail::mmap {

enum class CrashPoint : std::uint8_t { kNone, kAfterClaim, kMidPayload, kBeforePublish };

namespace detail {
inline std::atomic<CrashPoint> g_crash_point{CrashPoint::kNone};
inline std::atomic<std::int64_t> g_crash_countdown{0};
inline std::atomic<std::int64_t> g_stall_before_publish_us{0};
}  // namespace detail

/// Tests only: every append stalls this long between filling its record and publishing it
/// (0: never), as a writer descheduled or stopped there would.
inline void stall_before_publish(std::chrono::microseconds stall) noexcept {
  detail::g_stall_before_publish_us.store(stall.count(), std::memory_order_release);
}

/// Tests only: the writer kills its own process at `point` on the `after`-th append that
/// reaches it (0 = the next one).
inline void arm_crash_point(CrashPoint point, std::int64_t after) noexcept {
  detail::g_crash_countdown.store(after, std::memory_order_relaxed);
  detail::g_crash_point.store(point, std::memory_order_release);
}

inline void maybe_stall() noexcept {
  const auto stall = detail::g_stall_before_publish_us.load(std::memory_order_relaxed);
  if (stall != 0) [[unlikely]]
    std::this_thread::sleep_for(std::chrono::microseconds(stall));
}

inline void maybe_crash(CrashPoint point) noexcept {
  if (detail::g_crash_point.load(std::memory_order_relaxed) != point) [[likely]]
    return;
  if (detail::g_crash_countdown.fetch_sub(1, std::memory_order_relaxed) <= 0) {
    ::raise(SIGKILL);
  }
}

}  // namespace mlops::orchestration::detail::mmap
