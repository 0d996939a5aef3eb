#pragma once
// A Redis Streams consumer group member: XREADGROUP, XACK, XAUTOCLAIM.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestration/backend.h"
#include "orchestration/log_limiter.h"
#include "orchestration/redis/redis_connection.h"
#include "orchestration/redis/redis_reconnect.h"

namespace mlops::orchestration::detail::redis {

/// A consumer without a group reads through a group of its own named this and its member
/// name (Admin::lag() lists these only when named).
inline constexpr std::string_view kOwnGroupPrefix = "mlops-own-";

/// assign() creates the group on each topic (XGROUP CREATE ... MKSTREAM at 0 for
/// OffsetReset::kEarliest, $ for kLatest) unless it exists. poll() hands out, in this order:
/// after a (re)connect, this member's own entries still pending (a reply lost with the
/// connection); entries other members left pending longer than claim_idle_ms (XAUTOCLAIM,
/// checked at most every claim_idle_ms / 4, at least every 5 s); new entries (XREADGROUP >,
/// BLOCK until the deadline). commit() XACKs every entry handed out; close() leaves the
/// group if nothing is pending on this member (XGROUP DELCONSUMER); close() and topics
/// left mark the uncommitted entries idle (XCLAIM ... IDLE) so the group's other members
/// claim them at once. After a claim pass, at most once per claim_idle_ms, members with
/// nothing pending idle past claim_idle_ms are removed (dead ones whose entries were claimed).
/// A consumer without a group has a group of its own, destroyed at close(). A lost
/// connection gives kError (logged, rate-limited) and the next poll() reconnects, with
/// backoff; after a refused command the next poll() waits a backoff (within its deadline).
/// NOGROUP (group or stream deleted, server restarted empty) makes the groups again, once a
/// poll. XREADGROUP's COUNT applies to each stream: what one read
/// brings past `max` is held for the next polls. In a process forked from the one that made
/// it, every call fails (kError) and close() sends nothing. One thread at a time.
class RedisConsumer final : public ConsumerBackend {
 public:
  RedisConsumer(RedisSettings settings, ConsumerOptions options);
  ~RedisConsumer() override { close(); }
  RedisConsumer(const RedisConsumer&) = delete;
  RedisConsumer& operator=(const RedisConsumer&) = delete;

  Result<void> assign(std::span<const std::string> topics) override;
  Status poll(std::vector<Delivery>& out, std::size_t max, Deadline deadline) noexcept override;
  Status commit() noexcept override;
  /// Acknowledges what this member read from `topic`, then XGROUP SETID (0 or $).
  Result<void> seek(std::string_view topic, bool to_latest) override;
  /// Reads the stream from its first entry (XRANGE, a page at a time) to the start, then
  /// as seek() to the last entry passed over.
  Result<std::uint64_t> seek_to(std::string_view topic, const SeekProbe& probe) override;
  void close() noexcept override;
  /// Topics left but kept (tests: they must not pile up).
  [[nodiscard]] std::size_t retired_topics() const noexcept { return retired_.size(); }

 private:
  /// One subscribed stream.
  struct Topic {
    std::string name;
    std::string claim_cursor = "0-0";    // where the current XAUTOCLAIM pass goes on
    std::string history_cursor = "0-0";  // where reading this member's own pending goes on
    std::vector<std::string> handed;     // ids handed out since the last commit
  };

  /// Entries one XRANGE of seek_to() reads.
  static constexpr std::string_view kScanPage = "512";
  /// seek()'s checks: the subscribed topic `name`, and a connection.
  Result<Topic*> seek_topic(std::string_view name, Deadline deadline);
  /// Acknowledges what this member read from `topic`, then XGROUP SETID `id`, then every
  /// member's pending entries up to `id` (passed over by the move).
  Result<void> set_group_id(Topic& topic, std::string_view id, Deadline deadline);
  /// XACKs the group's pending entries of `topic` (every member's) with ids up to `last`
  /// ("+": all); false (logged) when the server refused.
  bool acknowledge_group_until(const Topic& topic, std::string_view last, Deadline deadline);
  bool connect(Deadline deadline) noexcept;
  void lose_connection() noexcept;
  /// Creates the group again on every topic (after NOGROUP: the group or the stream was
  /// deleted, or the server restarted empty); true if every one exists now.
  bool recreate_groups(Deadline deadline) noexcept;
  std::chrono::milliseconds claim_interval() const noexcept;
  /// Creates the group on `topic` unless it exists.
  Result<void> create_group(const std::string& topic, Deadline deadline);
  /// An entry read but not handed out yet: XREADGROUP's COUNT applies to each stream, so
  /// one read over several topics can bring more than asked for; the rest waits here.
  struct Held {
    Topic* topic;
    std::string id;
    std::optional<Delivery> delivery;  // none: deleted while pending, only to acknowledge
  };

  /// Appends the entries of `entries` (an XREADGROUP/XAUTOCLAIM entry list) of `topic` to
  /// held_ (hand_out() hands them out).
  void take_entries(Topic& topic, const std::shared_ptr<redisReply>& owner,
                    const redisReply& entries) noexcept;
  /// Moves held entries to `out` until it has `max` more than `before` (each id then counts
  /// as handed out, for commit()).
  void hand_out(std::vector<Delivery>& out, std::size_t max, std::size_t before);
  /// Held entries of `topic` become handed out (to be handed back or acknowledged).
  void release_held(const Topic& topic);
  /// True (and logged once) in a process forked from the one that made this consumer.
  bool forked_away() noexcept;
  Status read_history(std::vector<Delivery>& out, std::size_t max, Deadline deadline) noexcept;
  Status claim(std::vector<Delivery>& out, std::size_t max, Deadline deadline) noexcept;
  Status read_new(std::vector<Delivery>& out, std::size_t max, Deadline deadline) noexcept;
  /// Removes this member from the group on `topic` if nothing is pending on it (members
  /// would pile up in XINFO CONSUMERS otherwise).
  void forget_member(const Topic& topic, Deadline deadline) noexcept;
  /// XACKs the ids handed out from `topic`; false (logged) when the server refused.
  bool acknowledge(Topic& topic, Deadline deadline);
  /// After a claim pass (at most once per claim_idle_ms): removes the group's members on
  /// `topic` with nothing pending, idle past claim_idle_ms (kReapScript), so members that
  /// died do not pile up once their entries were claimed.
  void reap_members(const Topic& topic, Deadline deadline) noexcept;
  /// Drops the topics left whose entries are all acknowledged or handed back.
  void prune_retired() noexcept;
  /// Makes the uncommitted entries of `topic` claimable by other members now.
  void hand_back(Topic& topic, Deadline deadline) noexcept;

  RedisSettings settings_;
  ConsumerOptions options_;
  std::string group_;
  std::string member_;
  bool own_group_ = false;
  std::vector<std::unique_ptr<Topic>> topics_;  // stable addresses: Delivery::topic views names
  // Topics left, until their ids are acknowledged or handed back (and no Delivery views
  // their names: pruned at the next poll).
  std::vector<std::unique_ptr<Topic>> retired_;
  std::unique_ptr<Connection> connection_;
  bool read_history_ = false;
  Clock::time_point next_claim_{};
  Clock::time_point next_reap_{};
  Reconnector reconnector_;
  bool recreated_ = false;        // groups made again in this poll (once a poll)
  Clock::time_point retry_at_{};  // after a refused command, no poll before this
  std::chrono::milliseconds error_backoff_{0};
  bool closed_ = false;
  std::deque<Held> held_;
  std::uint64_t fork_generation_ = fork_generation();
  bool fork_reported_ = false;
  LogLimiter problems_;
};

}  // namespace mlops::orchestration::detail::redis
