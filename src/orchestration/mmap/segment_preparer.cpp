#include "orchestration/mmap/segment_preparer.h"

#include <pthread.h>

#include <new>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "orchestration/mmap/fork_guard.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::detail::mmap {
namespace {

// Requests beyond this are dropped: a writer then creates or faults its segment itself.
constexpr std::size_t kMaxPending = 64;

struct Request {
  enum class Work { kPrepare, kSmallPages, kRelease };
  Work work;
  std::shared_ptr<PrepareGate> gate;  // never the log itself: see PrepareGate
  std::uint64_t index;
  std::uint64_t begin;
  std::uint64_t end;
  bool huge_pages;
  std::shared_ptr<Segment> retired;  // kRelease: the segment to let go of here
};

// Deliberately leaked: the thread is detached and may still wait on it while the process
// exits, and a forked child must not touch a mutex some vanished parent thread held.
struct PreparerState {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Request> pending;
};

void run(PreparerState* state) {
  for (;;) {
    Request request;
    {
      std::unique_lock lock(state->mutex);
      state->wake.wait(lock, [&] { return !state->pending.empty(); });
      request = std::move(state->pending.front());
      state->pending.pop_front();
    }
    if (request.work == Request::Work::kRelease) {
      // Unmapping a segment whose pages are all mapped takes milliseconds (and a TLB
      // shootdown): here rather than on the writer's path.
      request.retired.reset();
      continue;
    }
    // The guard first: a fork() waits for this preparation instead of copying its locks.
    const ForkGuard guard;
    const std::lock_guard lock(request.gate->mutex);
    if (request.gate->log == nullptr) continue;
    if (request.work == Request::Work::kSmallPages) {
      request.gate->log->use_small_pages(request.index, request.begin);
    } else {
      request.gate->log->prepare(request.index, request.begin, request.end, request.huge_pages);
    }
  }
}

std::mutex g_state_mutex;
PreparerState* g_state = nullptr;

// In a forked child only the forking thread exists: the parent's preparer thread is gone
// and the mutex may have been held by a thread that no longer exists. Start afresh.
void forget_in_child() noexcept {
  new (&g_state_mutex) std::mutex();
  g_state = nullptr;
}

PreparerState* state_for_this_process() {
  std::lock_guard lock(g_state_mutex);
  if (g_state == nullptr) {
    static const bool registered = (::pthread_atfork(nullptr, nullptr, &forget_in_child), true);
    (void)registered;
    auto* fresh = new PreparerState();
    std::thread(run, fresh).detach();
    g_state = fresh;
  }
  return g_state;
}

// Queues `request` unless too many are waiting (then it is dropped: every request is only
// an optimisation). Never throws.
void submit(Request&& request) noexcept {
  try {
    auto* state = state_for_this_process();
    {
      std::lock_guard lock(state->mutex);
      if (state->pending.size() >= kMaxPending) return;
      state->pending.push_back(std::move(request));
    }
    state->wake.notify_one();
  } catch (...) {
    // No thread or no memory: the writer prepares its segments itself, only slower.
  }
}

}  // namespace

void prepare_segment_ahead(const std::shared_ptr<TopicLog>& log, std::uint64_t index,
                           std::uint64_t begin, std::uint64_t end, bool huge_pages) noexcept {
  submit({Request::Work::kPrepare, log->prepare_gate(), index, begin, end, huge_pages, nullptr});
}

void use_small_pages_ahead(const std::shared_ptr<TopicLog>& log, std::uint64_t index,
                           std::uint64_t from) noexcept {
  submit({Request::Work::kSmallPages, log->prepare_gate(), index, from, 0, false, nullptr});
}

void release_in_background(std::shared_ptr<Segment>&& segment) noexcept {
  // Not queued (too many pending, no thread): the request, and the segment, go here.
  if (segment) submit({Request::Work::kRelease, nullptr, 0, 0, 0, false, std::move(segment)});
}

}  // namespace mlops::orchestration::detail::mmap
