// Topic's consumer side: groups and their members, hand-outs, commits and freeing.
#include "orchestration/inproc/topic.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "orchestration/inproc/cache_hints.h"
#include "orchestration/inproc/spin.h"

namespace mlops::orchestration::detail::inproc {
namespace {

// Entries ahead of the one being handed out whose reference counts are fetched early.
constexpr std::uint64_t kPrefetchAhead = 8;
// Where a make_shared reference count lies before the object (libstdc++: the counts and a
// vtable pointer, 16 bytes).
constexpr std::size_t kCountBeforeBytes = 16;

}  // namespace

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
  member.seen_seeks = member.group->seeks;
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
  // What the member took before a seek of the group is void: the seek moved the group.
  if (!group.ephemeral && member.seen_seeks == group.seeks) {
    for (const auto& range : member.in_flight) {
      for (auto offset = range.begin; offset < range.end; ++offset)
        group.redeliver.push_back(offset);
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
  const auto* message = ring_.at(offset).entry.message();
  if (message == nullptr) return;
  // Messages from MessageBuilder::build() and from_bytes() keep their reference count in
  // the same allocation just before the bytes (make_shared). For any other owner this
  // only fetches a line in vain: a prefetch never faults. (Integer arithmetic: the address
  // may lie outside the buffer.)
  const auto address = reinterpret_cast<std::uintptr_t>(message->bytes().data());
  prefetch_for_write(reinterpret_cast<const void*>(address - kCountBeforeBytes));
}

void Topic::hand_out(std::uint64_t offset, std::vector<Delivery>& out) const noexcept {
  const Entry& entry = ring_.at(offset).entry;
  // Default-initialised member by member: emplace_back() would zero the whole struct first
  // (a `rep stos`, which costs more than the rest of a hand-out).
  Delivery delivery;
  if (const auto* message = entry.message()) {
    delivery.message = *message;  // shares the bytes: a reference-count bump
  } else if (const auto* raw = entry.raw()) {
    delivery.bytes = raw->bytes;  // the consumer verifies them
    delivery.owner = raw->owner;
  }
  delivery.topic = name_;
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
    drop_if_sought(member);
    while (member.reserved.size() < max && !group.redeliver.empty()) {
      const auto offset = group.redeliver.front();
      group.redeliver.pop_front();
      member.reserved.push_back(offset);
      member.in_flight.push_back({offset, offset + 1});
    }
    start = std::max(group.next.load(std::memory_order_relaxed),
                     begin_.load(std::memory_order_relaxed));
    const auto wanted = max - member.reserved.size();
    // Producers publish out of order: take the published run from the cursor on.
    while (count < wanted) {
      const Slot* slot = ring_.find(start + count);
      if (slot == nullptr || slot->published.load(std::memory_order_acquire) != start + count + 1)
        break;
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
  for (auto offset = start; offset < std::min(end, start + kPrefetchAhead); ++offset)
    prefetch(offset);
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
  member.seen_seeks = member.group->seeks;
  trim();
}

void Topic::seek(Member& member, bool to_latest) noexcept {
  const std::lock_guard lock(mutex_);
  // begin_ is the oldest entry not freed: no group can go back further than what some
  // group still holds.
  move_group(member, to_latest ? tail_.load(std::memory_order_relaxed)
                               : begin_.load(std::memory_order_relaxed));
  wake_members();  // members of the group asleep have something to take again
}

std::uint64_t Topic::seek_to(Member& member, const SeekProbe& probe) {
  const std::lock_guard lock(mutex_);
  const auto begin = begin_.load(std::memory_order_relaxed);
  const auto tail = tail_.load(std::memory_order_relaxed);
  auto start = begin;
  // Entries at or past begin_ stay until trim() frees them, which needs this lock.
  for (; start < tail; ++start) {
    const Slot& slot = ring_.at(start);
    if (slot.published.load(std::memory_order_acquire) != start + 1) break;
    const SeekPlace place = probe(slot.entry.bytes());
    if (place == SeekPlace::kStart) break;
    if (place == SeekPlace::kLast) {
      ++start;
      break;
    }
  }
  move_group(member, start);
  wake_members();
  return start - begin;
}

void Topic::move_group(Member& member, std::uint64_t next) noexcept {
  Group& group = *member.group;
  group.next.store(next, std::memory_order_relaxed);
  group.redeliver.clear();
  // Every member's uncommitted entries are void, as a commit of the whole group would make
  // them: those before `next` are passed over, the cursor hands out the rest again. The
  // other members drop theirs at their next take or leave (drop_if_sought); until then
  // they keep those entries from being freed.
  ++group.seeks;
  member.seen_seeks = group.seeks;
  member.in_flight.clear();
  trim();
}

void Topic::drop_if_sought(Member& member) noexcept {
  if (member.seen_seeks == member.group->seeks) return;
  member.in_flight.clear();
  member.seen_seeks = member.group->seeks;
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

}  // namespace mlops::orchestration::detail::inproc
