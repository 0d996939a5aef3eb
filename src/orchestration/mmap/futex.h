#pragma once
// Waiting on a 32-bit word in shared memory, across processes (Linux futex, not private).

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mlops::orchestration::mmap {

/// Sleeps while `*word == expected`, at most `timeout`; returns early on a wake-up,
/// a signal or a spurious wake-up (callers re-check their condition).
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept;

/// Wakes every process and thread waiting on `word`.
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

}  // namespace mlops::orchestration::mmap
