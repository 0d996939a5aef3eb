#pragma once
// A Redis Streams producer: XADD topic [MAXLEN ~ N] * m <bytes>, pipelined.

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "orchestration/backend.h"
#include "orchestration/log_limiter.h"
#include "orchestration/redis/redis_connection.h"
#include "orchestration/redis/redis_reconnect.h"

namespace mlops::orchestration::detail::redis {

/// send() queues an XADD on its connection and, by default (linger_ms=0), writes it at
/// once without waiting for its reply: replies are read every pipeline_messages sends (what
/// is in by then) and by flush(), in order, each giving one delivery report. With
/// linger_ms > 0 the queue is written once pipeline_messages commands or pipeline_bytes
/// bytes are queued, or at the first send() after its oldest command is linger_ms old (the
/// producer has no thread of its own: flush() or close() write what a last send() left). At most
/// max_in_flight messages wait for replies; beyond that send() is back-pressured (kBackPressured,
/// or under kBlock a wait of up to send_timeout, then kTimeout). flush() returns kOk once Redis has
/// replied to every XADD (and, with wait_replicas, WAIT saw that many replicas); kError if any
/// failed since the last flush. A lost connection reports every message without a reply
/// kDeliveryUnknown (never resent: that could duplicate it), and the next send() reconnects, with
/// backoff. Shareable: every call holds the producer's lock (recursive: a delivery callback may
/// send again), so threads take turns on the one connection.
class RedisProducer final : public ProducerBackend {
 public:
  RedisProducer(RedisSettings settings, ProducerOptions options);
  ~RedisProducer() override { close(); }
  RedisProducer(const RedisProducer&) = delete;
  RedisProducer& operator=(const RedisProducer&) = delete;

  Status send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept override;
  Status send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept override;
  Status flush(Deadline deadline) noexcept override;
  /// As send(), numbering the XADD so that confirm() can tell a refused one from a lost one.
  Status send_tracked(std::string_view topic, const messaging::MLOpsMessage& message,
                      std::uint64_t& ticket) noexcept override;
  /// flush(); then kOk if it succeeded, else per ticket: an XADD answered with an error
  /// (WRONGTYPE, OOM, ...) is kError (Redis stored nothing), one answered with an id is held
  /// (kOk; kDeliveryUnknown when wait_replicas' WAIT failed), one without a reply (lost with
  /// the connection, not in by the deadline, or forgotten past kMaxOutcomes) kDeliveryUnknown.
  Status confirm(std::span<const std::uint64_t> tickets, Deadline deadline) noexcept override;
  void close() noexcept override;
  [[nodiscard]] bool shareable() const noexcept override { return true; }

 private:
  /// One XADD waiting for its reply (the message only when reports are asked for).
  struct Pending {
    std::string_view topic;
    std::optional<messaging::MLOpsMessage> message;
    std::uint64_t ticket = 0;  // send_tracked()'s number, 0 for others
  };
  /// Replies to tracked XADDs kept for confirm(): beyond this many unconfirmed (a
  /// send(message, true) that failed on another topic never confirms), the oldest go.
  static constexpr std::size_t kMaxOutcomes = 4096;

  Status queue(std::string_view topic, std::span<const std::uint8_t> bytes,
               const messaging::MLOpsMessage* message, std::uint64_t ticket = 0) noexcept;
  /// A usable connection by `deadline`, reconnecting (with backoff) when there is none.
  bool connect(Deadline deadline) noexcept;
  /// Reads replies until at most `in_flight` are awaited or `deadline`.
  void collect(std::size_t in_flight, Deadline deadline) noexcept;
  /// The connection broke: every awaited message's delivery is unknown.
  void lose_connection() noexcept;
  void report(const Pending& pending, Status status) noexcept;
  std::string_view intern(std::string_view topic);
  /// True (and logged once) in a process forked from the one that made this producer: the
  /// socket is the parent's, so nothing is sent on it here.
  bool forked_away() noexcept;

  RedisSettings settings_;
  ProducerOptions options_;
  std::unique_ptr<Connection> connection_;
  std::deque<Pending> pending_;
  std::size_t unwritten_messages_ = 0;
  std::size_t unwritten_bytes_ = 0;
  std::size_t since_collect_ = 0;
  Clock::time_point oldest_unwritten_{};
  std::set<std::string, std::less<>> topics_;  // what Pending::topic views
  std::string_view last_topic_;                // a key of topics_: the latest send's
  std::string maxlen_;
  std::uint64_t failed_since_flush_ = 0;
  std::uint64_t last_ticket_ = 0;
  std::deque<std::pair<std::uint64_t, bool>> outcomes_;  // tracked XADD replies: (ticket, stored)
  bool sent_since_wait_ = false;
  bool closed_ = false;
  Reconnector reconnector_;
  LogLimiter problems_;
  std::uint64_t fork_generation_ = fork_generation();
  std::atomic<bool> fork_reported_{false};
  std::recursive_mutex mutex_;  // held by every call
};

}  // namespace mlops::orchestration::detail::redis
