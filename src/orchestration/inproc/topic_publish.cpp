// Topic's producer side: the lock-free claim, and the locked path of a full topic.
#include "orchestration/inproc/topic.h"

#include <algorithm>
#include <cassert>
#include <thread>
#include <type_traits>

#include "orchestration/inproc/asymmetric_fence.h"
#include "orchestration/inproc/cache_hints.h"
#include "orchestration/inproc/spin.h"
#include "orchestration/inproc/topic_room.h"

namespace mlops::orchestration::detail::inproc {
namespace {

// How far ahead of its claim a producer fetches a slot (for its next publishes).
constexpr std::uint64_t kSlotsAhead = 2;

std::size_t size_of(const messaging::MLOpsMessage& message) noexcept {
  return message.bytes().size();
}
std::size_t size_of(const RawPayload& raw) noexcept { return raw.bytes.size(); }

}  // namespace

template <class Payload>
Status Topic::try_publish(const Payload& payload, bool locked) noexcept {
  // Nothing may throw once a slot is claimed (its offset would never be published), and
  // the variant's emplace below cannot: the payloads copy a pointer and a shared_ptr.
  static_assert(std::is_nothrow_copy_constructible_v<Payload>);
  const std::size_t bytes = size_of(payload);
  // Room first: with room taken, the offset claimed next lies within max_messages of the
  // oldest entry not freed, so its slot's previous entry is gone.
  auto room = held_.load(std::memory_order_relaxed);
  do {
    if ((room >> kHeldBytesBits) >= limits_.max_messages ||
        (room & kHeldBytesMask) + bytes > limits_.max_bytes) {
      return Status::kBackPressured;
    }
  } while (!held_.compare_exchange_weak(room, room + held(1, bytes), std::memory_order_acquire,
                                        std::memory_order_relaxed));
  // Then an offset whose chunk exists (reached before the claim, so no claimed offset is
  // ever left without a slot).
  auto offset = tail_.load(std::memory_order_relaxed);
  Slot* slot = nullptr;
  do {
    slot = ring_.reach(offset);
    if (slot == nullptr) {
      give_back(1, bytes, locked);
      return Status::kError;
    }
  } while (!tail_.compare_exchange_weak(offset, offset + 1, std::memory_order_acq_rel,
                                        std::memory_order_relaxed));
  // The room taken means the slot's previous entry is freed already, and its clearing
  // happens before this write: some producer at or below this offset took room after that
  // give_back (acquire on held_) and released it on tail_, which this claim acquired. The
  // same release lets readers of tail_ see the slot's chunk.
  assert(offset < begin_.load(std::memory_order_acquire) + ring_.capacity() &&
         "inproc: claimed a slot that is not free");
  // The next slots were last written by a consumer freeing them: start fetching them now,
  // so the next publish does not wait for the line.
  if (const Slot* ahead = ring_.find(offset + kSlotsAhead)) prefetch_for_write(ahead);
  // Copied straight into the slot: one reference-count increment, nothing else.
  slot->entry.payload.template emplace<Payload>(payload);
  slot->published.store(offset + 1, std::memory_order_release);
  return Status::kOk;
}

void Topic::wake_sleepers() noexcept {
  // Pairs with the consumer's add_sleeper() and heavy_fence(): either its last look finds
  // the entry just published, or this load sees it asleep.
  light_fence();
  if (sleepers_.load(std::memory_order_relaxed) == 0) return;
  lock_spinning(mutex_);
  const std::lock_guard lock(mutex_, std::adopt_lock);
  wake_members();
}

Status Topic::publish(const messaging::MLOpsMessage& message, BackPressure policy,
                      std::chrono::milliseconds timeout) noexcept {
  return publish_payload(message, policy, timeout);
}

Status Topic::publish(const RawPayload& raw, BackPressure policy,
                      std::chrono::milliseconds timeout) noexcept {
  return publish_payload(raw, policy, timeout);
}

template <class Payload>
Status Topic::publish_payload(const Payload& payload, BackPressure policy,
                              std::chrono::milliseconds timeout) noexcept {
  const std::size_t bytes = size_of(payload);
  if (bytes > limits_.max_bytes) return Status::kTooLarge;
  Status status = try_publish(payload, false);
  if (status == Status::kOk) wake_sleepers();
  if (status != Status::kBackPressured) return status;

  // Full. Without any group, make room by dropping the oldest: nobody has a claim on it.
  const auto deadline = Clock::now() + timeout;
  bool polled = false;
  lock_spinning(mutex_);
  std::unique_lock lock(mutex_, std::adopt_lock);
  for (;;) {
    status = try_publish(payload, true);
    // Producers on the lock-free path may take the room just dropped: drop again.
    while (status == Status::kBackPressured && groups_.empty()) {
      drop_oldest(bytes);
      status = try_publish(payload, true);
      if (Clock::now() >= deadline) break;
    }
    if (status != Status::kBackPressured || policy == BackPressure::kReturn) break;
    if (Clock::now() >= deadline) return Status::kTimeout;
    if (!polled && !groups_.empty()) {
      // Wait briefly without the lock first: a busy consumer frees room within
      // microseconds, far sooner than a sleep and a wake-up.
      polled = true;
      lock.unlock();
      const auto stop_polling = std::min(deadline, Clock::now() + kPollBeforeSleep);
      do {
        for (int i = 0; i < kPollsPerClockRead; ++i) cpu_relax();
        status = try_publish(payload, false);
        if (status != Status::kBackPressured) break;
        std::this_thread::yield();  // with more threads than cores, let the consumers run
      } while (Clock::now() < stop_polling);
      if (status == Status::kOk) wake_sleepers();
      if (status != Status::kBackPressured) return status;
      lock_spinning(mutex_);
      lock = std::unique_lock(mutex_, std::adopt_lock);
      continue;
    }
    // Announce the wait, then look once more (give_back() pairs with this).
    blocked_producers_.fetch_add(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    status = try_publish(payload, true);
    if (status == Status::kBackPressured) room_.wait_until(lock, deadline);
    blocked_producers_.fetch_sub(1, std::memory_order_relaxed);
    if (status != Status::kBackPressured) break;
  }
  lock.unlock();
  if (status == Status::kOk) wake_sleepers();
  return status;
}

void Topic::drop_oldest(std::size_t bytes) noexcept {
  auto begin = begin_.load(std::memory_order_relaxed);
  const auto tail = tail_.load(std::memory_order_acquire);
  std::uint64_t dropped = 0;
  std::size_t dropped_bytes = 0;
  // Read after tail_ (acquire), so it counts every entry below tail.
  const auto room = held_.load(std::memory_order_relaxed);
  const auto count = room >> kHeldBytesBits;
  const auto held_bytes = room & kHeldBytesMask;
  while (begin < tail && dropped < count &&
         (count - dropped >= limits_.max_messages ||
          held_bytes - dropped_bytes + bytes > limits_.max_bytes)) {
    Slot& slot = ring_.at(begin);
    // Claimed but not yet published: its producer is between two instructions and needs
    // no lock to finish, so wait for it.
    while (slot.published.load(std::memory_order_acquire) != begin + 1) std::this_thread::yield();
    dropped_bytes += slot.entry.size();
    slot.entry.clear();
    ++dropped;
    ++begin;
  }
  if (dropped == 0) return;
  begin_.store(begin, std::memory_order_release);
  give_back(dropped, dropped_bytes, true);
}

}  // namespace mlops::orchestration::detail::inproc
