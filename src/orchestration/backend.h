#pragma once
// The interface every backend implements, one class per role. The public Producer,
// Consumer and Admin hold one of these and add what all backends share: topic rules,
// verification, filters, counters, logging.
//
// Positions are backend-defined (inproc offsets, mmap cursors, Kafka partition offsets,
// Redis entry ids); the contract is only that ConsumerBackend::commit() marks everything
// poll() handed out so far as processed, and close() without it hands that back to the group.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/admin.h"
#include "mlops/orchestration/backend_options.h"
#include "mlops/orchestration/consumer_options.h"
#include "mlops/orchestration/producer_options.h"
#include "mlops/orchestration/status.h"
#include "mlops/orchestration/topic_options.h"
#include "mlops/result.h"

namespace mlops::orchestration::detail {

using Clock = std::chrono::steady_clock;
/// Every wait in a backend ends at one of these.
using Deadline = Clock::time_point;

/// A parsed orchestration URI: scheme://connection?options.
struct Endpoint {
  std::string scheme;
  std::string connection;
  BackendOptions options;
};

/// One payload a consumer backend hands up to Consumer.
struct Delivery {
  /// Set when the payload is a message built or verified in this process and immutable
  /// since (inproc hands over the producer's own message by reference).
  std::optional<messaging::MLOpsMessage> message;
  /// Otherwise the raw payload, verified by Consumer before anyone sees it, and what keeps
  /// it alive (a broker's message, a mapped segment). Verified in place when 8-byte aligned.
  std::span<const std::uint8_t> bytes;
  std::shared_ptr<const void> owner;
  /// The topic it came from; valid until the backend's next poll() (Consumer drops its
  /// views before polling again) or its end.
  std::string_view topic;
};

/// Where one payload stands against a seek to a time or past a message (Consumer::seek).
enum class SeekPlace : std::uint8_t {
  kBefore,  ///< before the start: passed over
  kStart,   ///< the first payload to read again
  kLast,    ///< the last one passed over: the payload after it starts
};
/// Places one payload (its raw bytes) for a seek; called in the topic's order, oldest first
/// (kafka: per partition). Ends the scan by returning kStart or kLast.
using SeekProbe = std::function<SeekPlace(std::span<const std::uint8_t>)>;

/// A producer's connection to its backend. Topic names are valid when they get here.
/// A shareable() backend takes send(), send_raw() and flush() from several threads at once;
/// any other is called from one thread at a time (Producer refuses overlapping calls).
/// close() never overlaps another call.
class ProducerBackend {
 public:
  virtual ~ProducerBackend() = default;
  /// Whether send(), send_raw() and flush() may run on several threads at once. A backend
  /// says so only if that costs its single-thread path at most 5%
  /// (bench/producer_sharing_bench.cpp).
  [[nodiscard]] virtual bool shareable() const noexcept = 0;
  /// Hands `message` to `topic`. The backend must not keep a non-owning message past the
  /// call (copy its bytes). Calls ProducerOptions::on_delivery for what it accepts.
  /// @return kOk, kBackPressured, kTimeout, kTooLarge, kClosed, kError.
  virtual Status send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept = 0;
  /// Hands unverified bytes to `topic` (bridges and tests). @return as send().
  virtual Status send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept = 0;
  /// Waits until the backend holds everything sent. @return kOk, kTimeout, kError.
  virtual Status flush(Deadline deadline) noexcept = 0;
  /// As send(), for send(message, true): also sets `ticket` to a number naming this copy for
  /// confirm() (0: the backend tracks none). @return as send().
  virtual Status send_tracked(std::string_view topic, const messaging::MLOpsMessage& message,
                              std::uint64_t& ticket) noexcept {
    ticket = 0;
    return send(topic, message);
  }
  /// send(message, true)'s wait: flush() by `deadline`, then what became of the copies
  /// `tickets` names (from send_tracked()). Default: a failed flush leaves them unknown.
  /// @return kOk (held); kError (the backend refused one after taking it: certainly not
  ///         held); kDeliveryUnknown (not confirmed: may still arrive).
  virtual Status confirm(std::span<const std::uint64_t> tickets, Deadline deadline) noexcept {
    (void)tickets;
    return flush(deadline) == Status::kOk ? Status::kOk : Status::kDeliveryUnknown;
  }
  /// Releases the connection; nothing else is called afterwards.
  virtual void close() noexcept = 0;
};

/// A consumer's membership of a group. Called from one thread at a time.
class ConsumerBackend {
 public:
  virtual ~ConsumerBackend() = default;
  /// Makes `topics` (valid names, no duplicates) the complete subscription. Topics left
  /// hand their uncommitted payloads back to the group.
  virtual Result<void> assign(std::span<const std::string> topics) = 0;
  /// Appends at most `max` payloads to `out`, waiting until `deadline` for the first.
  /// @return kOk (payloads appended, or none and the backend never waits: none),
  ///         kTimeout (none by the deadline), kError.
  virtual Status poll(std::vector<Delivery>& out, std::size_t max, Deadline deadline) noexcept = 0;
  /// Marks everything poll() handed out so far as processed. @return kOk, kError.
  virtual Status commit() noexcept = 0;
  /// As commit(), waiting for nothing past `deadline` (receive's auto-commit passes its
  /// own). @return kOk, kError (also when the deadline came first: nothing committed).
  virtual Status commit_until(Deadline deadline) noexcept {
    (void)deadline;
    return commit();
  }
  /// Moves this consumer's group in `topic` (a subscribed one) to its oldest payload held
  /// (`to_latest` false) or past its newest, as a commit would: what this consumer handed
  /// out from `topic` and did not commit is dropped, not handed back.
  /// @return success, or kUnavailable/kTimeout saying why the group did not move.
  virtual Result<void> seek(std::string_view topic, bool to_latest) {
    (void)topic;
    (void)to_latest;
    return Error{ErrorCode::kUnavailable, "this backend cannot move a consumer group"};
  }
  /// Moves this consumer's group in `topic` (a subscribed one), as seek() does, to the
  /// first payload `probe` places at kStart, or the one after the payload it places kLast,
  /// reading from the oldest payload held; past the last one read when none starts.
  /// @return how many payloads it passed over, or an error as seek() (kTimeout also when
  ///         the read did not reach the start in time: the group did not move).
  virtual Result<std::uint64_t> seek_to(std::string_view topic, const SeekProbe& probe) = 0;
  /// Leaves the group without committing; nothing else is called afterwards.
  virtual void close() noexcept = 0;
};

/// An admin connection. Thread-safe.
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  virtual Result<void> validate_connection(Deadline deadline) = 0;
  /// Topic names, sorted.
  virtual Result<std::vector<std::string>> topics() = 0;
  /// Creates `name` (a valid name) unless it exists.
  virtual Result<void> create_topic(std::string_view name, const TopicOptions& options) = 0;
  /// Admin::lag(): `topic` and `groups` are valid names (topic may be empty: all).
  /// Backends that keep no positions keep this default.
  /// @return as Admin::lag().
  virtual Result<std::vector<TopicLag>> lag(std::string_view topic,
                                            const std::optional<std::vector<std::string>>& groups) {
    (void)topic;
    (void)groups;
    return Error{ErrorCode::kUnavailable,
                 "this backend keeps no consumer group positions to report lag"};
  }
};

/// One opened endpoint; makes the role objects. Thread-safe; shared by Orchestration copies.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<std::unique_ptr<ProducerBackend>> make_producer(
      const ProducerOptions& options) = 0;
  virtual Result<std::unique_ptr<ConsumerBackend>> make_consumer(
      const ConsumerOptions& options) = 0;
  virtual Result<std::unique_ptr<AdminBackend>> make_admin() = 0;
  /// Before make_consumer: fills `options.group` from a group the backend's own options
  /// name (Kafka's group.id), so the consumer and its retries use that group. Default: none.
  virtual Result<void> resolve_group(ConsumerOptions& options) {
    (void)options;
    return {};
  }
};

}  // namespace mlops::orchestration::detail
