#include "orchestration/mmap/fork_guard.h"

#include <pthread.h>

namespace mlops::orchestration::detail::mmap {
namespace {

// A rwlock that prefers the writer: fork() waiting for the sections under way keeps new
// ones from starting, so a stream of overlapping sections cannot starve it. (Such a lock
// deadlocks a thread that takes it shared twice while fork() waits: the depth below makes
// nested sections take it once.)
pthread_rwlock_t g_lock;
thread_local int t_depth = 0;

void initialise() noexcept {
  pthread_rwlockattr_t attributes;
  ::pthread_rwlockattr_init(&attributes);
  ::pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  ::pthread_rwlock_init(&g_lock, &attributes);
  ::pthread_rwlockattr_destroy(&attributes);
}

void ensure_initialised() noexcept {
  static const bool done = [] {
    initialise();
    ::pthread_atfork([] { ::pthread_rwlock_wrlock(&g_lock); },
                     [] { ::pthread_rwlock_unlock(&g_lock); },
                     // The child's only thread is not the lock's owner in the rwlock's eyes
                     // (another thread id): it starts from a fresh, unlocked one.
                     [] { initialise(); });
    return true;
  }();
  (void)done;
}

}  // namespace

ForkGuard::ForkGuard() {
  ensure_initialised();
  if (t_depth++ == 0) ::pthread_rwlock_rdlock(&g_lock);
}

ForkGuard::~ForkGuard() {
  if (--t_depth == 0) ::pthread_rwlock_unlock(&g_lock);
}

}  // namespace mlops::orchestration::detail::mmap
