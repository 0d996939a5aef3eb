#pragma once
// Waiting on 32-bit words in shared memory, across processes (Linux futex, not private).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>

namespace mlops::orchestration::detail::mmap {

/// Sleeps while `*word == expected`, at most `timeout`; returns early on a wake-up,
/// a signal or a spurious wake-up (callers re-check their condition).
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept;

/// Sleeps while every `*words[i] == expected[i]`, at most `timeout`, waking when any one
/// is woken (futex_waitv, Linux 5.16). On an older kernel it waits on the first word alone
/// for at most a few milliseconds at a time. Returns early like futex_wait.
void futex_wait_any(std::span<std::atomic<std::uint32_t>* const> words,
                    std::span<const std::uint32_t> expected,
                    std::chrono::nanoseconds timeout) noexcept;

/// Wakes every process and thread waiting on `word`.
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

}  // namespace mlops::orchestration::detail::mmap
