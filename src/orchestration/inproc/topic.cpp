#include "orchestration/inproc/topic.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <thread>

#include "orchestration/inproc/asymmetric_fence.h"
#include "orchestration/inproc/cache_hints.h"
#include "orchestration/inproc/spin.h"

namespace mlops::orchestration::detail::inproc {
namespace {

static_assert(std::bit_width(kMaxTopicMessages) <= 64 - kHeldBytesBits,
              "the room word must count kMaxTopicMessages entries");

constexpr std::uint64_t kHeldBytesMask = (std::uint64_t{1} << kHeldBytesBits) - 1;

constexpr std::uint64_t held(std::uint64_t count, std::size_t bytes) noexcept {
  return (count << kHeldBytesBits) | bytes;
}

// How far ahead of its claim a producer fetches a slot (for its next publishes).
constexpr std::uint64_t kSlotsAhead = 2;
// Entries ahead of the one being handed out whose reference counts are fetched early.
constexpr std::uint64_t kPrefetchAhead = 8;
// Where a make_shared reference count lies before the object (libstdc++: the counts and a
// vtable pointer, 16 bytes).
constexpr std::size_t kCountBeforeBytes = 16;

}  // namespace

Topic::Topic(std::string name, Limits limits)
    : name_(std::move(name)),
      limits_{limits.max_messages, std::min(limits.max_bytes, kMaxTopicBytes)},
      ring_(limits.max_messages) {}

Status Topic::try_publish(const messaging::MLOpsMessage& message, bool verified,
                          bool locked) noexcept {
  const std::size_t bytes = message.bytes().size();
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
  slot->entry.message.emplace(message);
  slot->entry.verified = verified;
  slot->published.store(offset + 1, std::memory_order_release);
  return Status::kOk;
}

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

void Topic::wake_sleepers() noexcept {
  // Pairs with the consumer's add_sleeper() and heavy_fence(): either its last look finds
  // the entry just published, or this load sees it asleep.
  light_fence();
  if (sleepers_.load(std::memory_order_relaxed) == 0) return;
  lock_spinning(mutex_);
  const std::lock_guard lock(mutex_, std::adopt_lock);
  wake_members();
}

Status Topic::publish(const messaging::MLOpsMessage& message, bool verified,
                      BackPressure policy, std::chrono::milliseconds timeout) noexcept {
  const std::size_t bytes = message.bytes().size();
  if (bytes > limits_.max_bytes) return Status::kTooLarge;
  Status status = try_publish(message, verified, false);
  if (status == Status::kOk) wake_sleepers();
  if (status != Status::kBackPressured) return status;

  // Full. Without any group, make room by dropping the oldest: nobody has a claim on it.
  const auto deadline = Clock::now() + timeout;
  bool polled = false;
  lock_spinning(mutex_);
  std::unique_lock lock(mutex_, std::adopt_lock);
  for (;;) {
    status = try_publish(message, verified, true);
    // Producers on the lock-free path may take the room just dropped: drop again.
    while (status == Status::kBackPressured && groups_.empty()) {
      drop_oldest(bytes);
      status = try_publish(message, verified, true);
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
        status = try_publish(message, verified, false);
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
    status = try_publish(message, verified, true);
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

void Topic::join(Member& member, std::string_view group_name, bool ephemeral, OffsetReset reset,
                 Waiter& waiter) {
  const std::lock_guard lock(mutex_);
  // Everything that may throw comes before any change, so a failed join leaves no trace.
  members_.reserve(members_.size() + 1);
  auto it = groups_.find(group_name);
  if (it == groups_.end()) {
    auto group = std::make_unique<Group>();
    group->name = std::string(group_name);
    group->ephemeral = ephemeral;
    group->next = reset == OffsetReset::kEarliest ? begin_.load() : tail_.load();
    group->members.reserve(1);
    it = groups_.emplace(group->name, std::move(group)).first;
  } else {
    it->second->members.reserve(it->second->members.size() + 1);
  }
  member.topic = this;
  member.group = it->second.get();
  member.waiter = &waiter;
  member.in_flight.clear();
  member.seen_handbacks = handbacks_.load(std::memory_order_relaxed);
  member.group->members.push_back(&member);
  members_.push_back(&member);
  trim();  // a first group at latest releases what was kept for nobody
}

void Topic::leave(Member& member) noexcept {
  const std::lock_guard lock(mutex_);
  Group& group = *member.group;
  std::erase(group.members, &member);
  std::erase(members_, &member);
  bool handed_back = false;
  if (!group.ephemeral) {
    for (const auto& range : member.in_flight) {
      for (auto offset = range.begin; offset < range.end; ++offset) group.redeliver.push_back(offset);
      handed_back = handed_back || range.begin < range.end;
    }
    std::sort(group.redeliver.begin(), group.redeliver.end());
  }
  member.in_flight.clear();
  member.group = nullptr;
  if (group.ephemeral && group.members.empty()) groups_.erase(group.name);
  trim();
  if (handed_back) {
    handbacks_.fetch_add(1, std::memory_order_relaxed);
    wake_members();
  }
}

bool Topic::has_news(const Member& member) const noexcept {
  if (handbacks_.load(std::memory_order_relaxed) != member.seen_handbacks) return true;
  const auto next = member.group->next.load(std::memory_order_relaxed);
  const Slot* slot = ring_.find(next);
  return slot != nullptr && slot->published.load(std::memory_order_acquire) == next + 1;
}

void Topic::prefetch(std::uint64_t offset) const noexcept {
  const Entry& entry = ring_.at(offset).entry;
  if (!entry.message) return;
  // Messages from MessageBuilder::build() and from_bytes() keep their reference count in
  // the same allocation just before the bytes (make_shared). For any other owner this
  // only fetches a line in vain: a prefetch never faults. (Integer arithmetic: the address
  // may lie outside the buffer.)
  const auto address = reinterpret_cast<std::uintptr_t>(entry.message->bytes().data());
  prefetch_for_write(reinterpret_cast<const void*>(address - kCountBeforeBytes));
}

void Topic::hand_out(std::uint64_t offset, std::vector<Delivery>& out) const noexcept {
  const Entry& entry = ring_.at(offset).entry;
  // Default-initialised member by member: emplace_back() would zero the whole struct first
  // (a `rep stos`, which costs more than the rest of a hand-out).
  Delivery delivery;
  delivery.message = entry.message;  // shares the bytes: a reference-count bump
  delivery.topic = name_;
  if (!entry.verified) {
    delivery.bytes = entry.message->bytes();
    delivery.unverified = true;
  }
  out.push_back(std::move(delivery));  // capacity reserved by take()
}

std::size_t Topic::take(Member& member, std::vector<Delivery>& out, std::size_t max) noexcept {
  // Reserve under the lock; copy after it. Reserved offsets are in the member's in-flight
  // ranges, so no trim can free them, and slots never move (SlotRing), so the copying
  // needs no lock.
  member.reserved.clear();
  std::uint64_t start = 0;
  std::uint64_t count = 0;
  try {
    out.reserve(out.size() + max);
    member.reserved.reserve(max);
  } catch (...) {  // Out of memory: take nothing now.
    return 0;
  }
  {
    lock_spinning(mutex_);
    const std::lock_guard lock(mutex_, std::adopt_lock);
    // Other members read in_flight under this lock (low_water), so it grows only here.
    auto& in_flight = member.in_flight;
    if (in_flight.capacity() < in_flight.size() + max + 1) {
      try {
        in_flight.reserve(std::max(2 * in_flight.capacity(), in_flight.size() + max + 1));
      } catch (...) {
        return 0;
      }
    }
    member.seen_handbacks = handbacks_.load(std::memory_order_relaxed);
    Group& group = *member.group;
    while (member.reserved.size() < max && !group.redeliver.empty()) {
      const auto offset = group.redeliver.front();
      group.redeliver.pop_front();
      member.reserved.push_back(offset);
      member.in_flight.push_back({offset, offset + 1});
    }
    start = std::max(group.next.load(std::memory_order_relaxed), begin_.load(std::memory_order_relaxed));
    const auto wanted = max - member.reserved.size();
    // Producers publish out of order: take the published run from the cursor on.
    while (count < wanted) {
      const Slot* slot = ring_.find(start + count);
      if (slot == nullptr || slot->published.load(std::memory_order_acquire) != start + count + 1) break;
      ++count;
    }
    if (count > 0) {
      group.next.store(start + count, std::memory_order_relaxed);
      if (!in_flight.empty() && in_flight.back().end == start) {
        in_flight.back().end = start + count;
      } else {
        in_flight.push_back({start, start + count});
      }
    }
  }
  for (const auto offset : member.reserved) hand_out(offset, out);
  // Each hand-out increments a reference count the producer wrote last, a cache miss
  // that stalls; asking for those lines a few entries ahead overlaps the misses.
  const auto end = start + count;
  for (auto offset = start; offset < std::min(end, start + kPrefetchAhead); ++offset) prefetch(offset);
  for (auto offset = start; offset < end; ++offset) {
    if (offset + kPrefetchAhead < end) prefetch(offset + kPrefetchAhead);
    hand_out(offset, out);
  }
  return member.reserved.size() + static_cast<std::size_t>(count);
}

void Topic::commit(Member& member) noexcept {
  lock_spinning(mutex_);
  const std::lock_guard lock(mutex_, std::adopt_lock);
  member.in_flight.clear();
  trim();
}

std::size_t Topic::size() const noexcept {
  return static_cast<std::size_t>(held_.load(std::memory_order_acquire) >> kHeldBytesBits);
}

void Topic::seek(Member& member, bool to_latest) noexcept {
  const std::lock_guard lock(mutex_);
  Group& group = *member.group;
  // begin_ is the oldest entry not freed: no group can go back further than what some
  // group still holds.
  group.next.store(to_latest ? tail_.load(std::memory_order_relaxed) : begin_.load(std::memory_order_relaxed),
                   std::memory_order_relaxed);
  group.redeliver.clear();
  member.in_flight.clear();
  trim();
  wake_members();  // members of the group asleep have something to take again
}

std::uint64_t Topic::low_water(const Group& group) const noexcept {
  auto low = group.next.load(std::memory_order_relaxed);
  if (!group.redeliver.empty()) low = std::min(low, group.redeliver.front());
  for (const Member* member : group.members) {
    for (const auto& range : member->in_flight) low = std::min(low, range.begin);
  }
  return low;
}

void Topic::trim() noexcept {
  if (groups_.empty()) {
    // Blocked producers may now drop what nobody has a claim on.
    if (blocked_producers_.load(std::memory_order_relaxed) > 0) room_.notify_all();
    return;
  }
  auto low = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [name, group] : groups_) low = std::min(low, low_water(*group));
  auto begin = begin_.load(std::memory_order_relaxed);
  std::uint64_t freed = 0;
  std::size_t freed_bytes = 0;
  for (; begin < low; ++begin, ++freed) {
    Slot& slot = ring_.at(begin);
    // A group that joined at latest starts at tail_, maybe past entries still being
    // published. Their producers finish without the lock: wait for them (stopping here
    // instead could leave a full topic that nobody will ever trim again).
    while (slot.published.load(std::memory_order_acquire) != begin + 1) std::this_thread::yield();
    freed_bytes += slot.entry.size();
    slot.entry.clear();
  }
  if (freed == 0) return;
  begin_.store(begin, std::memory_order_release);
  give_back(freed, freed_bytes, true);
}

void Topic::wake_members() noexcept {
  for (Member* member : members_) member->waiter->wake();
}

}  // namespace mlops::orchestration::detail::inproc
