#include "orchestration/kafka/kafka_reaper.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

namespace mlops::orchestration::detail::kafka {
namespace {

struct Job {
  rd_kafka_t* handle;
  int flags;
  std::shared_ptr<const void> keep_alive;
};

std::atomic<bool> g_exiting{false};

// Never destroyed: its thread is detached and may still be destroying a client while the
// process exits (it dies with the process then; nothing is left to wait for it).
struct Reaper {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> jobs;
  std::size_t pending = 0;  // queued or being destroyed
  bool running = false;

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return !jobs.empty(); });
      Job job = std::move(jobs.front());
      jobs.pop_front();
      lock.unlock();
      rd_kafka_destroy_flags(job.handle, job.flags);
      job.keep_alive.reset();
      lock.lock();
      --pending;
    }
  }
};

Reaper& reaper() {
  static Reaper* const instance = new Reaper;  // NOLINT(cppcoreguidelines-owning-memory)
  return *instance;
}

}  // namespace

void destroy_in_background(rd_kafka_t* handle, int flags,
                           std::shared_ptr<const void> keep_alive) noexcept {
  // Its remaining lines would be the same "brokers down" ones; and none may reach the log
  // hook once the process exits (see process_exiting()).
  rd_kafka_set_log_level(handle, 0);
  static const bool registered = std::atexit([] { g_exiting.store(true); }) == 0;
  (void)registered;
  auto& state = reaper();
  Job job{handle, flags, std::move(keep_alive)};
  try {
    const std::lock_guard lock(state.mutex);
    if (!state.running) {
      std::thread([&state] { state.run(); }).detach();
      state.running = true;
    }
    state.jobs.push_back(std::move(job));  // unchanged if it throws
    ++state.pending;
  } catch (...) {  // No thread (or no memory): destroy it here, blocking, as before.
    rd_kafka_destroy_flags(job.handle, job.flags);
    return;
  }
  state.wake.notify_one();
}

std::size_t background_destroys_pending() noexcept {
  auto& state = reaper();
  const std::lock_guard lock(state.mutex);
  return state.pending;
}

bool process_exiting() noexcept { return g_exiting.load(std::memory_order_relaxed); }

}  // namespace mlops::orchestration::detail::kafka
