#pragma once
// Named points in the writer where tests kill it (SIGKILL) to prove recovery. Off unless a
// test arms one; costs one relaxed load per point.

#include <atomic>
#include <csignal>
#include <cstdint>

namespace mlops::orchestration::mmap {

enum class CrashPoint : std::uint8_t { kNone, kAfterClaim, kMidPayload, kBeforePublish };

namespace detail {
inline std::atomic<CrashPoint> g_crash_point{CrashPoint::kNone};
inline std::atomic<std::int64_t> g_crash_countdown{0};
}  // namespace detail

/// Tests only: the writer kills its own process at `point` on the `after`-th append that
/// reaches it (0 = the next one).
inline void arm_crash_point(CrashPoint point, std::int64_t after) noexcept {
  detail::g_crash_countdown.store(after, std::memory_order_relaxed);
  detail::g_crash_point.store(point, std::memory_order_release);
}

inline void maybe_crash(CrashPoint point) noexcept {
  if (detail::g_crash_point.load(std::memory_order_relaxed) != point) [[likely]] return;
  if (detail::g_crash_countdown.fetch_sub(1, std::memory_order_relaxed) <= 0) {
    ::raise(SIGKILL);
  }
}

}  // namespace mlops::orchestration::mmap
