#pragma once
// One inproc topic: a bounded log of entries, the consumer groups reading it, and the
// members of each group. Every group sees every entry; the members of one group share a
// cursor (competing consumers). An entry is freed once every group has committed past it;
// while the topic has no group at all, entries are kept (oldest dropped first when full)
// so that the first group can start at the earliest.
//
// Producers take no lock while the topic has room: they claim an offset and its bytes with
// compare-and-swap and publish the slot (SlotRing). Everything else (groups, hand-outs,
// commits, freeing, a full topic) runs under the topic's lock.

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
#include "orchestration/inproc/slot_ring.h"
#include "orchestration/inproc/waiter.h"

namespace mlops::orchestration::detail::inproc {

/// How much a topic holds before producers are back-pressured.
struct Limits {
  std::size_t max_messages;  // at most kMaxTopicMessages
  std::size_t max_bytes;     // at most kMaxTopicBytes (larger values are lowered to it)
};

/// Bits of Topic's room word that count bytes; the rest count entries (up to
/// kMaxTopicMessages).
inline constexpr int kHeldBytesBits = 39;
/// The most payload bytes one inproc topic may be limited to (512 GiB).
inline constexpr std::size_t kMaxTopicBytes = (std::size_t{1} << kHeldBytesBits) - 1;

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
  /// The topic's hand-back count when this member last took from it.
  std::uint64_t seen_handbacks = 0;
  /// The group's seek count when in_flight was started: when another member has sought
  /// since, in_flight is dropped (not handed back) at this member's next take or leave.
  /// Only this member's thread changes in_flight, so a seek cannot free entries it copies.
  std::uint64_t seen_seeks = 0;
  /// Redelivered offsets reserved by take(), copied out after the lock (reused).
  std::vector<std::uint64_t> reserved;
};

/// A consumer group's state in one topic. It outlives its members (so a restarted consumer
/// gets what an earlier one left uncommitted), unless it is ephemeral.
struct Group {
  std::string name;
  bool ephemeral = false;
  /// Next offset never handed out to this group. Written under the topic's lock; read
  /// without it by members looking for something new.
  std::atomic<std::uint64_t> next{0};
  /// Offsets handed back by members that left without committing, ascending.
  std::deque<std::uint64_t> redeliver;
  std::vector<Member*> members;
  /// How many times a member moved the group (seek): what members held before is void.
  std::uint64_t seeks = 0;
};

/// Thread-safety: every call may be made from any thread.
class Topic {
 public:
  Topic(std::string name, Limits limits);
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] Limits limits() const noexcept { return limits_; }

  /// Appends `message` (an owning one: the topic shares its bytes); when full, waits up to
  /// `timeout` (kBlock) or returns at once (kReturn).
  /// @return kOk, kBackPressured, kTimeout, kTooLarge, kError (out of memory).
  Status publish(const messaging::MLOpsMessage& message, BackPressure policy,
                 std::chrono::milliseconds timeout) noexcept;
  /// As above, for bytes from send_raw(), which consumers verify before anyone reads them.
  Status publish(const RawPayload& raw, BackPressure policy,
                 std::chrono::milliseconds timeout) noexcept;

  /// Makes `member` a member of `group` (created at earliest or latest if new).
  void join(Member& member, std::string_view group, bool ephemeral, OffsetReset reset,
            Waiter& waiter);
  /// Ends the membership; what it had in flight goes back to its group.
  void leave(Member& member) noexcept;
  /// Appends up to `max` entries for `member` to `out`; returns how many.
  std::size_t take(Member& member, std::vector<Delivery>& out, std::size_t max) noexcept;
  /// Marks everything `member` took as processed.
  void commit(Member& member) noexcept;
  /// Moves `member`'s group to the oldest entry held (`to_latest` false) or past the newest
  /// claimed; what every member took uncommitted and what the group had handed back is dropped.
  void seek(Member& member, bool to_latest) noexcept;
  /// As seek(), to the first entry from the oldest held that `probe` places at kStart (or
  /// after the one it places kLast); past the last published entry when none does. An entry
  /// still being published ends the scan there. @return the entries passed over.
  std::uint64_t seek_to(Member& member, const SeekProbe& probe);

  /// Whether `member` may find something to take: the entry at its group's cursor is
  /// published, or a member handed entries back. Takes no lock, so idle consumers can poll.
  [[nodiscard]] bool has_news(const Member& member) const noexcept;

  /// A consumer about to sleep registers here first so that producers know to wake it,
  /// then calls heavy_fence() (once for all its topics) and looks again; it unregisters
  /// when it wakes.
  void add_sleeper() noexcept { sleepers_.fetch_add(1, std::memory_order_relaxed); }
  void remove_sleeper() noexcept { sleepers_.fetch_sub(1, std::memory_order_relaxed); }

  /// Entries held now (for tests and stats).
  [[nodiscard]] std::size_t size() const noexcept;
  /// Consumers asleep on this topic now, or about to be (for tests).
  [[nodiscard]] int sleepers() const noexcept { return sleepers_.load(std::memory_order_acquire); }

 private:
  /// publish() for either kind of payload (topic_publish.cpp).
  template <class Payload>
  Status publish_payload(const Payload& payload, BackPressure policy,
                         std::chrono::milliseconds timeout) noexcept;
  /// Claims room and an offset, and publishes `payload` there; `locked`: mutex_ is held.
  /// @return kOk, kBackPressured when the topic is full, kError when out of memory.
  template <class Payload>
  Status try_publish(const Payload& payload, bool locked) noexcept;
  /// Returns room for `count` entries of `bytes` in all, waking producers waiting for it.
  void give_back(std::uint64_t count, std::size_t bytes, bool locked) noexcept;
  /// Wakes consumers that sleep on this topic (after a publish).
  void wake_sleepers() noexcept;
  /// With no group at all: drops the oldest published entries until `bytes` more fit.
  /// Under mutex_.
  void drop_oldest(std::size_t bytes) noexcept;
  [[nodiscard]] std::uint64_t low_water(const Group& group) const noexcept;
  /// Puts `member`'s group's cursor at `next` and voids every member's in-flight entries.
  void move_group(Member& member, std::uint64_t next) noexcept;
  /// Drops `member`'s in-flight entries when its group was moved since it took them.
  static void drop_if_sought(Member& member) noexcept;
  void trim() noexcept;
  void wake_members() noexcept;
  void hand_out(std::uint64_t offset, std::vector<Delivery>& out) const noexcept;
  /// Starts fetching what handing out `offset` will write (a reserved offset).
  void prefetch(std::uint64_t offset) const noexcept;

  const std::string name_;
  const Limits limits_;
  SlotRing ring_;
  // Room taken: entries claimed and not freed (high bits) and their payload bytes (low
  // bits), in one word so that a producer checks and takes both with one compare-and-swap.
  alignas(64) std::atomic<std::uint64_t> held_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // next offset to claim
  // Written under mutex_.
  alignas(64) std::atomic<std::uint64_t> begin_{0};  // oldest offset not freed
  std::atomic<std::uint64_t> handbacks_{0};          // times a leaver handed entries back
  std::atomic<int> sleepers_{0};                     // consumers asleep on this topic
  std::atomic<int> blocked_producers_{0};            // producers waiting for room
  alignas(64) mutable std::mutex mutex_;
  std::condition_variable room_;  // producers blocked on a full topic
  std::map<std::string, std::unique_ptr<Group>, std::less<>> groups_;
  std::vector<Member*> members_;  // of every group, for waking
};

}  // namespace mlops::orchestration::detail::inproc
