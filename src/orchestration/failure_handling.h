#pragma once
// What a Consumer does with messages that failed: dead letters, retries after a delay, and
// corrupt payloads. Consumer owns one; every call comes from the Consumer's thread.
//
// Retry delay (README "Retries and dead letters"): retry() sends a copy, due at a wall-clock
// time, to `<topic>.retry` and waits until the backend holds it (a flush) before returning,
// so a crash after retry() returned loses nothing. Each member of a named group also reads
// `<topic>.retry` through a second backend consumer in the group `<group>.retry`; a copy
// read there is held in memory until it is due, then handed out by receive() like any
// message. The retry consumer commits only when it holds nothing (everything it read was
// handed out before that commit), so a commit never marks a copy still waiting as
// processed: a crash loses no retry, at worst some come twice. A consumer without a group
// keeps its retries in memory (its group ends with it anyway).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/consumer_options.h"
#include "mlops/orchestration/message_filter.h"
#include "mlops/orchestration/status.h"
#include "mlops/result.h"
#include "orchestration/backend.h"
#include "orchestration/dead_letter.h"

namespace mlops::orchestration::detail {

/// Counts of the failure paths (read by Consumer::stats from any thread).
struct FailureCounts {
  std::uint64_t retried = 0;
  std::uint64_t dead_lettered = 0;
};

class FailureHandling {
 public:
  FailureHandling(std::shared_ptr<Backend> backend, const ConsumerOptions& options);
  ~FailureHandling();
  FailureHandling(const FailureHandling&) = delete;
  FailureHandling& operator=(const FailureHandling&) = delete;

  /// Follows the consumer's subscription: reads `<topic>.retry` for each topic.
  Result<void> assign(std::span<const std::string> topics);

  /// Forgets the topics of the previous batch (receive() starts a new one).
  void begin_batch() noexcept {
    batch_.clear();
    if (!batch_topics_.empty()) batch_topics_.clear();
  }
  /// Remembers which topic a message handed out came from (dead_letter/retry need it).
  void note(const messaging::MLOpsMessage& message, std::string_view topic) noexcept {
    batch_.push_back({message.bytes().data(), topic});
  }

  /// Moves due retries that pass `filter` into `out`, up to `max` in all, reading new
  /// copies first when it is time. `now` is the caller's clock reading (receive() has one
  /// already), so the happy path reads the clock no more often than without retries.
  void take_due(std::vector<messaging::MLOpsMessage>& out, const MessageFilter& filter,
                std::size_t max, Clock::time_point now);
  /// The earliest of `deadline`, the next due retry and the next look at the retry topics:
  /// how long the main poll may wait.
  [[nodiscard]] Deadline cap(Deadline deadline) const noexcept;

  /// Consumer::dead_letter.
  Status dead_letter(const messaging::MLOpsMessage& message, std::string_view reason) noexcept;
  /// Consumer::retry.
  Status retry(const messaging::MLOpsMessage& message, std::chrono::milliseconds delay,
               std::string_view reason) noexcept;
  /// A payload that failed verification: to `<topic>.dlq` as raw bytes when the options say
  /// so. @return whether it went there.
  bool dead_letter_corrupt(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept;

  /// After the main commit: commits the retry topics when nothing is held.
  Status commit() noexcept;
  void close() noexcept;

  [[nodiscard]] FailureCounts counts() const noexcept;

 private:
  struct Delivered {
    const std::uint8_t* data;
    std::string_view topic;
  };
  struct Held {
    Clock::time_point due;
    messaging::MLOpsMessage message;
    std::string topic;  // the original topic
  };
  [[nodiscard]] std::string topic_of(const messaging::MLOpsMessage& message) const;
  void read_retry_topics(Clock::time_point now) noexcept;
  void hold(messaging::MLOpsMessage message, std::string topic, std::int64_t due_unix_ns);

  std::shared_ptr<Backend> backend_;
  std::string group_;
  std::int32_t max_retries_;
  bool corrupt_to_dlq_;
  messaging::VerifyLimits limits_;
  std::vector<std::string> subscriptions_;
  SideProducer producer_;
  std::unique_ptr<ConsumerBackend> retry_reader_;  // named groups with retries on
  bool retry_uncommitted_ = false;
  Clock::time_point next_read_{};
  std::vector<Delivered> batch_;
  std::deque<std::string> batch_topics_;  // topics of retries handed out in this batch
  std::vector<Held> held_;                // a min-heap on `due`
  std::vector<Delivery> scratch_;
  std::atomic<std::uint64_t> retried_{0};
  std::atomic<std::uint64_t> dead_lettered_{0};
};

}  // namespace mlops::orchestration::detail
