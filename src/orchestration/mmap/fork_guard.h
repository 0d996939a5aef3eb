#pragma once
// fork() must never copy one of the mmap queue's mutexes locked into a child, where no
// thread is left to unlock it (the segment preparer holds its locks while it allocates and
// faults in a segment, for milliseconds). Every section that takes such a mutex holds this
// guard shared; fork() takes it exclusively (pthread_atfork), so it waits for them to end.

#include <shared_mutex>

namespace mlops::orchestration::detail::mmap {

/// Held (shared) around every mmap-queue critical section that takes a mutex. Sections may
/// nest within a thread (the guard is then taken once).
class ForkGuard {
 public:
  ForkGuard();
  ~ForkGuard();
  ForkGuard(const ForkGuard&) = delete;
  ForkGuard& operator=(const ForkGuard&) = delete;
};

}  // namespace mlops::orchestration::detail::mmap
