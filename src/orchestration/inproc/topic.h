#pragma once
// One inproc topic: a bounded log of entries, the consumer groups reading it, and the
// members of each group. Every group sees every entry; the members of one group share a
// cursor (competing consumers). An entry is freed once every group has committed past it;
// while the topic has no group at all, entries are kept (oldest dropped first when full)
// so that the first group can start at the earliest.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/orchestration/consumer_options.h"
#include "mlops/orchestration/producer_options.h"
#include "mlops/orchestration/status.h"
#include "orchestration/backend.h"
#include "orchestration/inproc/entry_ring.h"
#include "orchestration/inproc/waiter.h"

namespace mlops::orchestration::detail::inproc {

/// How much a topic holds before producers are back-pressured.
struct Limits {
  std::size_t max_messages;
  std::size_t max_bytes;
};

class Topic;
struct Group;

/// Offsets [begin, end) handed to a member and not yet committed.
struct Range {
  std::uint64_t begin;
  std::uint64_t end;
};

/// One consumer's place in one topic's group. Owned by the consumer; its fields change
/// only under the topic's lock.
struct Member {
  Topic* topic = nullptr;
  Group* group = nullptr;
  Waiter* waiter = nullptr;
  std::vector<Range> in_flight;
  /// The topic's version() when this member last took from it.
  std::uint64_t seen_version = 0;
  /// Redelivered offsets reserved by take(), copied out after the lock (reused).
  std::vector<std::uint64_t> reserved;
};

/// A consumer group's state in one topic. It outlives its members (so a restarted consumer
/// gets what an earlier one left uncommitted), unless it is ephemeral.
struct Group {
  std::string name;
  bool ephemeral = false;
  /// Next offset never handed out to this group.
  std::uint64_t next = 0;
  /// Offsets handed back by members that left without committing, ascending.
  std::deque<std::uint64_t> redeliver;
  std::vector<Member*> members;
};

/// Thread-safety: every call may be made from any thread.
class Topic {
 public:
  Topic(std::string name, Limits limits);
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] Limits limits() const noexcept { return limits_; }

  /// Appends `entry`; when full, waits up to `timeout` (kBlock) or returns at once (kReturn).
  /// @return kOk, kBackPressured, kTimeout, kTooLarge.
  Status publish(Entry&& entry, BackPressure policy, std::chrono::milliseconds timeout) noexcept;

  /// Makes `member` a member of `group` (created at earliest or latest if new).
  void join(Member& member, std::string_view group, bool ephemeral, OffsetReset reset,
            Waiter& waiter);
  /// Ends the membership; what it had in flight goes back to its group.
  void leave(Member& member) noexcept;
  /// Appends up to `max` entries for `member` to `out`; returns how many.
  std::size_t take(Member& member, std::vector<Delivery>& out, std::size_t max) noexcept;
  /// Marks everything `member` took as processed.
  void commit(Member& member) noexcept;

  /// Changes whenever there may be something new to take (a publish, a hand-back);
  /// readable without the lock, so idle consumers can poll it cheaply.
  [[nodiscard]] std::uint64_t version() const noexcept {
    return version_.load(std::memory_order_acquire);
  }

  /// Entries held now (for tests and stats).
  [[nodiscard]] std::size_t size() const noexcept;

 private:
  [[nodiscard]] bool fits(std::size_t bytes) const noexcept {
    return log_.size() < limits_.max_messages && bytes_ + bytes <= limits_.max_bytes;
  }
  [[nodiscard]] std::uint64_t low_water(const Group& group) const noexcept;
  void trim() noexcept;
  void wake_members() noexcept;
  void bump_version() noexcept {
    version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  void hand_out(std::uint64_t offset, std::vector<Delivery>& out) const noexcept;

  const std::string name_;
  const Limits limits_;
  mutable std::mutex mutex_;
  std::condition_variable room_;  // producers blocked on a full topic
  std::size_t blocked_producers_ = 0;
  EntryRing log_;
  std::size_t bytes_ = 0;
  std::map<std::string, std::unique_ptr<Group>, std::less<>> groups_;
  std::vector<Member*> members_;  // of every group, for waking
  std::atomic<std::uint64_t> version_{0};  // written under mutex_
  std::atomic<std::uint64_t> freed_{0};    // log_.begin() after the last trim; under mutex_
};

}  // namespace mlops::orchestration::detail::inproc
