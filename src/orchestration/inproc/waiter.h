#pragma once
// How a consumer sleeps until any of its topics gets a message: one waiter per consumer,
// registered with each topic it reads. A consumer going to sleep also counts itself as a
// sleeper in each topic, so a publisher on a busy topic pays one load, not a notify.

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail::inproc {

class Waiter {
 public:
  /// Announces the intent to sleep; the caller then adds itself as a sleeper to its topics
  /// and looks at them once more before sleep(), so a message published in between is
  /// never missed.
  void prepare() noexcept {
    {
      const std::lock_guard lock(mutex_);
      signalled_ = false;
    }
    sleeping_.store(true, std::memory_order_seq_cst);
  }
  /// Gives up sleeping (the second look found something).
  void cancel() noexcept { sleeping_.store(false, std::memory_order_relaxed); }
  /// Sleeps until woken or `deadline`.
  void sleep(Deadline deadline) noexcept {
    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, deadline, [this] { return signalled_; });
    sleeping_.store(false, std::memory_order_relaxed);
  }
  /// Wakes the consumer if it is asleep (or about to be). Called under a topic's lock.
  void wake() noexcept {
    // Only the first waker signals; later publishers see the flag cleared.
    if (!sleeping_.load(std::memory_order_seq_cst) || !sleeping_.exchange(false)) return;
    const std::lock_guard lock(mutex_);
    signalled_ = true;
    cv_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool signalled_ = false;
  std::atomic<bool> sleeping_{false};
};

}  // namespace mlops::orchestration::detail::inproc
