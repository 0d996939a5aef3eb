#include "orchestration/inproc/topic.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "orchestration/inproc/spin.h"

namespace mlops::orchestration::detail::inproc {

Topic::Topic(std::string name, Limits limits)
    : name_(std::move(name)), limits_(limits), log_(limits.max_messages) {}

Status Topic::publish(Entry&& entry, BackPressure policy, std::chrono::milliseconds timeout) noexcept {
  const std::size_t bytes = entry.size;
  if (bytes > limits_.max_bytes) return Status::kTooLarge;
  lock_spinning(mutex_);
  std::unique_lock lock(mutex_, std::adopt_lock);
  if (!fits(bytes)) {
    if (groups_.empty()) {
      // Nobody has a claim on what is held: make room by dropping the oldest.
      while (!fits(bytes)) bytes_ -= log_.pop_front();
    } else if (policy == BackPressure::kReturn) {
      return Status::kBackPressured;
    } else {
      const auto deadline = Clock::now() + timeout;
      // Wait briefly without the lock first: a busy consumer frees room within microseconds,
      // far sooner than a sleep and a wake-up.
      const auto stop_polling = std::min(deadline, Clock::now() + kPollBeforeSleep);
      while (!fits(bytes) && Clock::now() < stop_polling) {
        const auto freed = freed_.load(std::memory_order_relaxed);
        lock.unlock();
        for (int i = 0; i < kPollsPerClockRead && freed_.load(std::memory_order_acquire) == freed; ++i) {
          cpu_relax();
        }
        std::this_thread::yield();  // with more threads than cores, let the consumers run
        lock_spinning(mutex_);
        lock = std::unique_lock(mutex_, std::adopt_lock);
      }
      ++blocked_producers_;
      const bool room = room_.wait_until(lock, deadline, [&] {
        if (groups_.empty()) {
          while (!fits(bytes)) bytes_ -= log_.pop_front();
        }
        return fits(bytes);
      });
      --blocked_producers_;
      if (!room) return Status::kTimeout;
    }
  }
  try {
    log_.push_back(std::move(entry));
  } catch (...) {  // The ring could not grow.
    return Status::kError;
  }
  bytes_ += bytes;
  bump_version();
  wake_members();
  return Status::kOk;
}

void Topic::join(Member& member, std::string_view group_name, bool ephemeral, OffsetReset reset,
                 Waiter& waiter) {
  const std::lock_guard lock(mutex_);
  auto it = groups_.find(group_name);
  if (it == groups_.end()) {
    auto group = std::make_unique<Group>();
    group->name = std::string(group_name);
    group->ephemeral = ephemeral;
    group->next = reset == OffsetReset::kEarliest ? log_.begin() : log_.end();
    it = groups_.emplace(group->name, std::move(group)).first;
  }
  member.topic = this;
  member.group = it->second.get();
  member.waiter = &waiter;
  member.in_flight.clear();
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
    bump_version();
    wake_members();
  }
}

void Topic::hand_out(std::uint64_t offset, std::vector<Delivery>& out) const noexcept {
  const Entry& entry = log_.at(offset);
  auto& delivery = out.emplace_back();  // capacity reserved by take()
  delivery.topic = name_;
  if (entry.message) {
    delivery.message = entry.message;  // shares the bytes: a reference-count bump
  } else {
    delivery.bytes = entry.raw_bytes();
    delivery.owner = std::shared_ptr<const void>(entry.raw, entry.raw.get());
  }
}

std::size_t Topic::take(Member& member, std::vector<Delivery>& out, std::size_t max) noexcept {
  // Reserve under the lock; copy after it. Reserved offsets are in the member's in-flight
  // ranges, so no trim can drop them, and slots never move (EntryRing), so the copying
  // needs no lock and producers are not held up by it.
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
    member.seen_version = version_.load(std::memory_order_relaxed);
    Group& group = *member.group;
    while (member.reserved.size() < max && !group.redeliver.empty()) {
      const auto offset = group.redeliver.front();
      group.redeliver.pop_front();
      member.reserved.push_back(offset);
      member.in_flight.push_back({offset, offset + 1});
    }
    start = std::max(group.next, log_.begin());
    count = std::min<std::uint64_t>(max - member.reserved.size(), log_.end() - start);
    if (count > 0) {
      group.next = start + count;
      if (!member.in_flight.empty() && member.in_flight.back().end == start) {
        member.in_flight.back().end = group.next;
      } else {
        member.in_flight.push_back({start, group.next});
      }
    }
  }
  for (const auto offset : member.reserved) hand_out(offset, out);
  for (auto offset = start; offset < start + count; ++offset) hand_out(offset, out);
  return member.reserved.size() + static_cast<std::size_t>(count);
}

void Topic::commit(Member& member) noexcept {
  lock_spinning(mutex_);
  const std::lock_guard lock(mutex_, std::adopt_lock);
  member.in_flight.clear();
  trim();
}

std::size_t Topic::size() const noexcept {
  const std::lock_guard lock(mutex_);
  return log_.size();
}

std::uint64_t Topic::low_water(const Group& group) const noexcept {
  auto low = group.next;
  if (!group.redeliver.empty()) low = std::min(low, group.redeliver.front());
  for (const Member* member : group.members) {
    for (const auto& range : member->in_flight) low = std::min(low, range.begin);
  }
  return low;
}

void Topic::trim() noexcept {
  if (groups_.empty()) {
    // Blocked producers may now drop what nobody has a claim on.
    if (blocked_producers_ > 0) room_.notify_all();
    return;
  }
  auto low = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [name, group] : groups_) low = std::min(low, low_water(*group));
  bool freed = false;
  while (log_.begin() < low && log_.begin() < log_.end()) {
    bytes_ -= log_.pop_front();
    freed = true;
  }
  if (!freed) return;
  freed_.store(log_.begin(), std::memory_order_release);
  if (blocked_producers_ > 0) room_.notify_all();
}

void Topic::wake_members() noexcept {
  for (Member* member : members_) member->waiter->wake();
}

}  // namespace mlops::orchestration::detail::inproc
