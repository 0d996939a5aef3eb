#pragma once
/// \file Consumer: receives MLOpsMessages from the topics it subscribes to.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/export.h"
#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/backoff.h"
#include "mlops/orchestration/consumer_options.h"
#include "mlops/orchestration/message_filter.h"
#include "mlops/orchestration/orchestration.h"
#include "mlops/orchestration/position.h"
#include "mlops/orchestration/status.h"
#include "mlops/orchestration/topic_list.h"
#include "mlops/result.h"

namespace mlops::orchestration {

/// How long receive() waits when not told.
inline constexpr std::chrono::milliseconds kDefaultReceiveTimeout{1000};

/// Receives messages from its subscriptions as a member of a consumer group: every group
/// sees every message, the members of one group share them. Delivery is at-least-once:
/// what receive() handed out and commit() did not cover comes again to the group after
/// this consumer closes (or unsubscribes). Every payload is verified; a foreign or corrupt
/// one is skipped, counted in stats() and reported through the log hook.
///
/// Order: see Producer. A member of a group gets its share in the order its backend keeps
/// (inproc and mmap: the topic's; kafka: each partition's); what comes again after a
/// redelivery comes before anything newer to its group, but after what other members
/// already received.
///
///   auto consumer = Consumer::create("etl-done", orch, {.group = "train"}).value();
///   for (const auto& msg : consumer.receive()) {
///     std::cout << to_string(msg.creator_type()) << ' ' << msg.user_message().value_or("") <<
///     '\n';
///   }
///
/// Thread-safety: one thread at a time; give each thread its own Consumer.
class MLOPS_EXPORT Consumer {
 public:
  /// A consumer of `subscription` (possibly none yet) on `orchestration`.
  /// @return the consumer, or kInvalidArgument naming an invalid topic, or the backend's error.
  static Result<Consumer> create(TopicList subscription, const Orchestration& orchestration,
                                 ConsumerOptions options = {});

  /// Takes over `other`, which is left closed.
  Consumer(Consumer&& other) noexcept;
  /// Closes this one, then takes over `other`, which is left closed.
  Consumer& operator=(Consumer&& other) noexcept;
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  /// Closes the consumer (see close()).
  ~Consumer();

  /// Subscribes to `topics`: instead of the current subscriptions when `override`, else
  /// in addition to them. Topics left hand their uncommitted messages back to the group.
  /// @return success, or kInvalidArgument naming an invalid topic (nothing changes),
  ///         kUnavailable when closed, or the backend's error.
  Result<void> subscribe(TopicList topics, bool override = true);
  /// Leaves every topic (uncommitted messages go back to the group).
  /// @return success, or kUnavailable when closed.
  Result<void> unsubscribe();
  /// The topics subscribed to, in the order given.
  [[nodiscard]] const std::vector<std::string>& subscriptions() const noexcept;

  /// Waits up to `timeout` for messages that pass `filter` and returns at most `max` of
  /// them (0: ConsumerOptions::max_batch); returns as soon as one batch has any. Empty on
  /// timeout, when closed and without subscriptions (the filled overload says which).
  [[nodiscard]] std::vector<messaging::MLOpsMessage> receive(
      MessageFilter filter = {}, std::chrono::milliseconds timeout = kDefaultReceiveTimeout,
      std::size_t max = 0);
  /// As above, accepting every message.
  [[nodiscard]] std::vector<messaging::MLOpsMessage> receive(std::chrono::milliseconds timeout,
                                                             std::size_t max = 0);
  /// As above, filling `out` (cleared first): no allocation once `out` has grown.
  /// @return kOk (at least one message); kTimeout (none within `timeout`); kNoTopic (no
  ///         subscriptions; returns at once); kClosed; kError.
  ///         The none backend returns kOk and no messages at once.
  Status receive(std::vector<messaging::MLOpsMessage>& out, MessageFilter filter = {},
                 std::chrono::milliseconds timeout = kDefaultReceiveTimeout,
                 std::size_t max = 0) noexcept;

  /// Marks everything receive() handed out so far (and everything it filtered out or
  /// skipped) as processed, so the group never gets it again. Waits at most the backend's
  /// bound (kafka: timeout_ms).
  /// @return kOk; kClosed; kError (not committed, or not confirmed in time; kafka: also at
  ///         once while an earlier commit still waits for an unreachable group coordinator).
  Status commit() noexcept;

  /// Sends `message` (one receive() handed out) to the dead-letter topic `<topic>.dlq` of
  /// the topic it came from, with the additional arguments mlops.dlq_reason (`reason`),
  /// mlops.dlq_topic and mlops.dlq_time_ns (ns since the Unix epoch), and waits until the
  /// backend holds it. `message` is then processed like any message handed out: the next
  /// commit() covers it. Its topic is the one receive() got it from (the latest batch), else
  /// the one subscription, else its own topic field among the subscriptions.
  /// @return kOk; kNoTopic (its topic is not known); kInvalidTopic (`<topic>.dlq` is too
  ///         long); kClosed; or the send's failure (kTimeout, kBackPressured, kError): then
  ///         it is not in the dead-letter topic, so do not commit it.
  ///
  ///   if (!valid(msg)) consumer.dead_letter(msg, "no such dataset");
  Status dead_letter(const messaging::MLOpsMessage& message, std::string_view reason) noexcept;

  /// Schedules a copy of `message` with retries() + 1 and the additional argument
  /// mlops.retry_reason to reach this consumer's group again no earlier than `delay` from
  /// now; `message` itself is processed at the next commit(). A message already retried
  /// ConsumerOptions::max_retries times (or any, when that is 0) goes to the dead-letter
  /// topic instead (dead_letter() with `reason`). The copy is held by the backend before
  /// this returns, so a crash afterwards loses nothing (inproc: as long as the process lives;
  /// a consumer without a group keeps its retries in memory, as its group ends with it).
  /// It arrives through receive() in its group, on time within about 100 ms.
  /// @return kOk; kNoTopic; kInvalidTopic (`<topic>.retry` too long); kClosed; or the send's
  ///         failure (then nothing is scheduled: do not commit `message`).
  ///
  ///   consumer.retry(msg, std::chrono::seconds(30), "GPU preempted");
  Status retry(const messaging::MLOpsMessage& message, std::chrono::milliseconds delay,
               std::string_view reason = {}) noexcept;
  /// As above with the delay `backoff` gives for message.retries():
  ///
  ///   consumer.retry(msg, Backoff{.initial = 1s, .multiplier = 2, .max = 5min, .jitter = 0.2});
  Status retry(const messaging::MLOpsMessage& message, const Backoff& backoff,
               std::string_view reason = {}) noexcept;

  /// Moves this consumer's group in `topic` (one it subscribes to) to `position`, as a
  /// commit would, to re-run a stage over past messages (backfill, retraining) or to pass
  /// them over. What receive() handed out from `topic` and commit() did not cover is
  /// dropped, not handed back; retries already scheduled still come.
  /// - earliest(): the oldest message held (inproc holds only what some group has not
  ///   committed; a time or id before it is the same as earliest()).
  /// - latest(): only messages sent afterwards.
  /// - at_time(t): the group moves to the first message stamped at or after t, in the
  ///   topic's order (kafka: in each partition); after(id): to the message after the one
  ///   with `id` (or, without one, the first with a newer id). Other members and a consumer
  ///   started later read from there too. The backend finds it by reading the topic from its
  ///   oldest message held (message stamps and ids are in the payloads, not the backends'
  ///   own indexes: kafka's record times and redis's entry ids are arrival times), within
  ///   the backend's timeout; stats().replay_skipped counts the messages passed over. A
  ///   payload that cannot be read starts the replay there. A time or id newer than every
  ///   message held moves the group past all of them: it reads what comes. The search stops
  ///   at the first message stamped at or after t (or with a newer id): where several
  ///   producers' clocks put stamps or ids out of order, messages after that one come again
  ///   (at least once; nothing is passed over that belongs after the position).
  /// kafka moves the group's offsets in every partition, and this member at once; other
  /// members holding partitions of `topic` now keep their place until a rebalance.
  /// @return success; kInvalidArgument (not subscribed to `topic`; a time, or an id's time,
  ///         later than now); kUnavailable (closed; the backend cannot move the group now);
  ///         kTimeout (the backend did not answer, or the read for a time or an id did not
  ///         reach the start, in time: the group may not have moved).
  ///
  ///   consumer.seek("etl-done", Position::at_time(std::chrono::system_clock::now() - 24h));
  Result<void> seek(std::string_view topic, Position position);

  /// Leaves the group without committing: uncommitted messages come again to the group.
  /// Returns within the backend's bound (kafka: timeout_ms, brokers down or not; see the
  /// README). Later calls return kClosed or empty. Idempotent.
  void close() noexcept;

  /// True once close() ran.
  [[nodiscard]] bool is_closed() const noexcept;
  /// Counts so far; safe to call from another thread.
  [[nodiscard]] ConsumerStats stats() const noexcept;
  /// The options it was created with.
  [[nodiscard]] const ConsumerOptions& options() const noexcept;

 private:
  struct Impl;
  explicit Consumer(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlops::orchestration
