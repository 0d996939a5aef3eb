#include "orchestration/mmap/futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace mlops::orchestration::detail::mmap {
namespace {

timespec to_timespec(std::chrono::nanoseconds duration) {
  timespec spec{};
  spec.tv_sec = static_cast<time_t>(duration.count() / 1'000'000'000);
  spec.tv_nsec = static_cast<long>(duration.count() % 1'000'000'000);
  return spec;
}

// Without futex_waitv a multi-topic reader re-checks the other topics this often.
constexpr std::chrono::milliseconds kFallbackSlice{5};
std::atomic<bool> g_waitv_missing{false};

}  // namespace

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() <= 0) return;
  const timespec relative = to_timespec(timeout);
  // FUTEX_WAIT (not _PRIVATE): the word lives in a file mapped by several processes.
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &relative,
            nullptr, 0);
}

void futex_wait_any(std::span<std::atomic<std::uint32_t>* const> words,
                    std::span<const std::uint32_t> expected,
                    std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() <= 0 || words.empty()) return;
  if (words.size() == 1) return futex_wait(*words[0], expected[0], timeout);
  if (words.size() <= FUTEX_WAITV_MAX && !g_waitv_missing.load(std::memory_order_relaxed)) {
    futex_waitv waiters[FUTEX_WAITV_MAX] = {};
    for (std::size_t i = 0; i < words.size(); ++i) {
      waiters[i].val = expected[i];
      waiters[i].uaddr = reinterpret_cast<std::uintptr_t>(words[i]);
      waiters[i].flags = FUTEX_32;  // Shared: no FUTEX_PRIVATE_FLAG.
    }
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const auto absolute =
        std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) + timeout;
    const timespec deadline = to_timespec(absolute);
    if (::syscall(SYS_futex_waitv, waiters, static_cast<unsigned>(words.size()), 0U, &deadline,
                  CLOCK_MONOTONIC) == 0 ||
        errno != ENOSYS) {
      return;
    }
    g_waitv_missing.store(true, std::memory_order_relaxed);
  }
  futex_wait(*words[0], expected[0], std::min<std::chrono::nanoseconds>(timeout, kFallbackSlice));
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

}  // namespace mlops::orchestration::detail::mmap
