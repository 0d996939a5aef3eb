#pragma once
// Fetching cache lines ahead of a write. A topic's slots and its messages' reference counts
// pass between producer and consumer cores for every message; asking for a line with the
// right to write it saves the second round trip a plain prefetch (a shared copy) leaves.
// A prefetch is a hint: it never faults.

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace mlops::orchestration::detail::inproc {

#if defined(__x86_64__)
namespace cache_hints_detail {
inline bool has_prefetchw() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  // CPUID 0x80000001 ECX bit 8: PREFETCHW (3DNowPrefetch).
  return __get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 8)) != 0;
}
inline const bool kHasPrefetchw = has_prefetchw();
}  // namespace cache_hints_detail
#endif

/// Starts fetching the line at `address` with the right to write it.
inline void prefetch_for_write(const void* address) noexcept {
#if defined(__x86_64__)
  if (cache_hints_detail::kHasPrefetchw) {
    asm volatile("prefetchw (%0)" : : "r"(address));
    return;
  }
#endif
  __builtin_prefetch(address, 1);
}

}  // namespace mlops::orchestration::detail::inproc
