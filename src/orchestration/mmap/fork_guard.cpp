#include "orchestration/mmap/fork_guard.h"

#include <pthread.h>

#include <new>

namespace mlops::orchestration::mmap {
namespace {

// Leaked on purpose: threads may still use it while the process exits.
std::shared_mutex* guard_mutex() {
  static std::shared_mutex* const mutex = [] {
    auto* made = new std::shared_mutex();
    ::pthread_atfork([] { guard_mutex()->lock(); }, [] { guard_mutex()->unlock(); },
                     // The child's only thread is not the lock's owner in the rwlock's eyes
                     // (another thread id): start from a fresh, unlocked one.
                     [] { new (guard_mutex()) std::shared_mutex(); });
    return made;
  }();
  return mutex;
}

}  // namespace

ForkGuard::ForkGuard() { guard_mutex()->lock_shared(); }
ForkGuard::~ForkGuard() { guard_mutex()->unlock_shared(); }

}  // namespace mlops::orchestration::mmap
