#pragma once
// A full fence split unevenly between two sides. A producer publishes on every send and must
// then look whether a consumer sleeps; a consumer announces its sleep and must then look
// once more for entries. Each side needs a full fence between its store and its load, but
// the consumer's side runs only before a sleep. With Linux's membarrier(), the consumer pays
// for both (a system call that makes every running thread of the process execute a full
// fence) and the producer's fence shrinks to a compiler barrier. Without membarrier(), or
// with MLOPS_INPROC_MEMBARRIER=off in the environment, both sides use an ordinary full fence.

#include <atomic>
#include <cstdlib>
#include <string_view>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace mlops::orchestration::detail::inproc {

namespace asymmetric_fence_detail {
inline bool register_expedited() noexcept {
#if defined(__linux__) && defined(SYS_membarrier)
  // Opting out: expedited membarrier() interrupts every core running a thread of the
  // process, which latency-critical neighbours may not want.
  const char* setting = std::getenv("MLOPS_INPROC_MEMBARRIER");
  if (setting != nullptr && std::string_view(setting) == "off") return false;
  const long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (commands < 0 || (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
  return false;
#endif
}
/// Decided on first use, the same for every thread from then on. (A registration is kept
/// across fork() and dropped by exec, which starts the process anew.)
inline bool expedited() noexcept {
  static const bool registered = register_expedited();
  return registered;
}
/// Set for good when a membarrier() call fails after registration (out of memory, a
/// seccomp filter installed later): light fences are full fences from then on.
inline std::atomic<bool> failed{false};
}  // namespace asymmetric_fence_detail

/// Whether light fences are compiler barriers now (membarrier() registered and working).
[[nodiscard]] inline bool fences_are_asymmetric() noexcept {
  return asymmetric_fence_detail::expedited() &&
         !asymmetric_fence_detail::failed.load(std::memory_order_relaxed);
}

/// The frequent side's fence.
inline void light_fence() noexcept {
  if (fences_are_asymmetric()) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

/// The rare side's fence: orders this thread's accesses against every light_fence() of
/// the process as a full fence on both sides would.
/// @return false when it could not: membarrier() failed, so a light fence running at the
/// same moment may have been only a compiler barrier. The caller must then not rely on
/// being woken (sleep briefly and look again); later light fences are full fences.
[[nodiscard]] inline bool heavy_fence() noexcept {
#if defined(__linux__) && defined(SYS_membarrier)
  if (asymmetric_fence_detail::expedited() &&
      !asymmetric_fence_detail::failed.load(std::memory_order_relaxed)) {
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return true;
    asymmetric_fence_detail::failed.store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return false;
  }
#endif
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return true;
}

}  // namespace mlops::orchestration::detail::inproc
