#pragma once
// Short spins before a thread sleeps: on a busy topic the other side is usually only
// nanoseconds away, and a futex sleep and wake costs microseconds.

#include <chrono>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace mlops::orchestration::detail::inproc {

/// One polite busy-wait step.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Locks `mutex`, trying for a while before sleeping in it. Returns with it held.
inline void lock_spinning(std::mutex& mutex) noexcept {
  constexpr int kTries = 64;
  for (int i = 0; i < kTries; ++i) {
    if (mutex.try_lock()) return;
    cpu_relax();
  }
  mutex.lock();
}

/// Busy-wait steps between clock reads (a clock read costs about as much as 20 of them).
inline constexpr int kPollsPerClockRead = 32;

/// How long a consumer with nothing to read, or a producer facing a full topic, polls
/// before it sleeps.
inline constexpr std::chrono::microseconds kPollBeforeSleep{50};

}  // namespace mlops::orchestration::detail::inproc
