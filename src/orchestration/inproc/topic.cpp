// Topic's construction and its room word: what producers claim and frees give back.
// Publishing is in topic_publish.cpp, groups and hand-outs in topic_groups.cpp.
#include "orchestration/inproc/topic.h"

#include <algorithm>

#include "orchestration/inproc/spin.h"
#include "orchestration/inproc/topic_room.h"

namespace mlops::orchestration::detail::inproc {

Topic::Topic(std::string name, Limits limits)
    : name_(std::move(name)),
      limits_{limits.max_messages, std::min(limits.max_bytes, kMaxTopicBytes)},
      ring_(limits.max_messages) {}

void Topic::give_back(std::uint64_t count, std::size_t bytes, bool locked) noexcept {
  held_.fetch_sub(held(count, bytes), std::memory_order_release);
  // A producer announces its wait under mutex_ and then looks once more: taking the lock
  // here means it either sees this room or is already waiting when notified.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (blocked_producers_.load(std::memory_order_relaxed) == 0) return;
  if (!locked) {
    lock_spinning(mutex_);
    mutex_.unlock();
  }
  room_.notify_all();
}

std::size_t Topic::size() const noexcept {
  return static_cast<std::size_t>(held_.load(std::memory_order_acquire) >> kHeldBytesBits);
}

void Topic::wake_members() noexcept {
  for (Member* member : members_) member->waiter->wake();
}

}  // namespace mlops::orchestration::detail::inproc
