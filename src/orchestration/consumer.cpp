#include "mlops/orchestration/consumer.h"

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "messaging/message_access.h"
#include "mlops/log.h"
#include "mlops/messaging/legacy_json.h"
#include "orchestration/backend.h"
#include "orchestration/deadline.h"
#include "orchestration/failure_handling.h"
#include "orchestration/seek_probe.h"
#include "orchestration/uri.h"
#include "orchestration/wire_option.h"

namespace mlops::orchestration {
namespace {

// Written by the consumer's thread, read by any (stats()).
struct Counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n = 1) noexcept {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

constexpr std::uintptr_t kMessageAlignment = 8;

Error closed_error() { return Error{ErrorCode::kUnavailable, "the consumer is closed"}; }

// Logs at the 1st, 10th, 100th, ... skipped payload: nothing logs per message.
bool worth_logging(std::uint64_t count) noexcept {
  while (count % 10 == 0) count /= 10;
  return count == 1;
}

}  // namespace

struct Consumer::Impl {
  std::unique_ptr<detail::ConsumerBackend> backend;
  std::unique_ptr<detail::FailureHandling> failures;  // dead letters and retries
  ConsumerOptions options;
  std::vector<std::string> subscriptions;
  std::vector<detail::Delivery> scratch;  // reused, so steady-state receive allocates nothing
  bool closed = false;
  bool uncommitted = false;
  bool warned_no_topic = false;
  Counter received;
  Counter filtered_out;
  Counter skipped_corrupt;
  Counter legacy;
  Counter skipped_legacy;
  Counter commits;
  Counter replay_skipped;

  /// Verifies a raw payload; takes its owner when it passes.
  Result<messaging::MLOpsMessage> verify(detail::Delivery& delivery) const {
    const auto address = reinterpret_cast<std::uintptr_t>(delivery.bytes.data());
    if (address % kMessageAlignment == 0) {
      // Verified before the owner is taken: a payload that fails stays alive for
      // read_foreign() (from_shared would drop its owner with the error).
      auto checked = messaging::MLOpsMessage::borrow(delivery.bytes, options.verify_limits);
      if (!checked) return checked.error();
      return messaging::detail::MessageAccess::adopt_verified(
          delivery.bytes.data(), delivery.bytes.size(), std::move(delivery.owner));
    }
    return messaging::MLOpsMessage::from_bytes(delivery.bytes, options.verify_limits);
  }

  /// A payload that is not one of our messages may be the original library's JSON: read
  /// as such when it looks like it, else the FlatBuffers error stands. Never throws.
  Result<messaging::MLOpsMessage> read_foreign(const detail::Delivery& delivery,
                                               Error flatbuffers_error) noexcept {
    if (!messaging::legacy_json::looks_like(delivery.bytes)) return flatbuffers_error;
    try {
      const messaging::legacy_json::Limits limits{.max_bytes = options.verify_limits.max_bytes};
      auto message = messaging::legacy_json::decode(delivery.bytes, limits);
      if (message) {
        legacy.add();
        return message;
      }
      skipped_legacy.add();
      return Error{message.error().code,
                   "not a FlatBuffers message, and not the original's JSON either: " +
                       message.error().message};
    } catch (...) {  // std::bad_alloc building the error text
      skipped_legacy.add();
      return flatbuffers_error;
    }
  }

  /// The message a delivery carries, checked as its backend asks (or the original's JSON
  /// read from its bytes); an error when it is neither. The delivery's bytes stay alive
  /// for the error path.
  Result<messaging::MLOpsMessage> open(detail::Delivery& delivery) noexcept {
    if (delivery.message) return std::move(*delivery.message);
    auto message = verify(delivery);
    if (message) return message;
    return read_foreign(delivery, message.error());
  }

  void report_skipped(const detail::Delivery& delivery, const Error& error) noexcept {
    skipped_corrupt.add();
    const auto count = skipped_corrupt.get();
    if (!worth_logging(count)) return;
    try {
      log(LogLevel::kWarning, "consumer skipped a foreign or corrupt payload of " +
                                  std::to_string(delivery.bytes.size()) + " bytes on topic " +
                                  detail::quote_text(delivery.topic) + " (" +
                                  std::to_string(count) +
                                  " so far; logged at 1, 10, 100, ...): " + error.message);
    } catch (...) {  // A failing log hook must not stop the consumer.
    }
  }
};

Result<Consumer> Consumer::create(TopicList subscription, const Orchestration& orchestration,
                                  ConsumerOptions options) {
  if (orchestration.backend_ == nullptr) {
    return Error{ErrorCode::kInvalidArgument, "the orchestration was moved from"};
  }
  if (options.max_batch == 0) {
    return Error{ErrorCode::kInvalidArgument, "ConsumerOptions::max_batch must be at least 1"};
  }
  // Consumers read both wire formats: `wire` is a producer's option, accepted and unused.
  options.backend = detail::without_wire_option(std::move(options.backend));
  if (auto resolved = orchestration.backend_->resolve_group(options); !resolved) {
    return resolved.error();
  }
  auto backend = orchestration.backend_->make_consumer(options);
  if (!backend) return backend.error();
  auto impl = std::make_unique<Impl>();
  impl->backend = std::move(*backend);
  impl->failures = std::make_unique<detail::FailureHandling>(orchestration.backend_, options);
  impl->options = std::move(options);
  Consumer consumer(std::move(impl));
  if (!subscription.empty()) {
    if (auto subscribed = consumer.subscribe(std::move(subscription)); !subscribed) {
      return subscribed.error();
    }
  }
  return consumer;
}

Consumer::Consumer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Consumer::~Consumer() { close(); }

Result<void> Consumer::subscribe(TopicList topics, bool override) {
  if (impl_ == nullptr || impl_->closed) return closed_error();
  if (const auto* invalid = topics.first_invalid()) {
    return Error{ErrorCode::kInvalidArgument,
                 "invalid topic name " + detail::quote_text(*invalid) +
                     ": topics match ^[A-Za-z0-9._-]{1,249}$ and are not . or .."};
  }
  std::vector<std::string> wanted;
  if (!override) wanted = impl_->subscriptions;
  for (const auto& topic : topics.names()) {
    if (std::find(wanted.begin(), wanted.end(), topic) == wanted.end()) wanted.push_back(topic);
  }
  if (auto assigned = impl_->backend->assign(wanted); !assigned) return assigned.error();
  if (auto assigned = impl_->failures->assign(wanted); !assigned) return assigned.error();
  impl_->subscriptions = std::move(wanted);
  return {};
}

Result<void> Consumer::unsubscribe() {
  if (impl_ == nullptr || impl_->closed) return closed_error();
  if (auto assigned = impl_->backend->assign({}); !assigned) return assigned.error();
  (void)impl_->failures->assign({});
  impl_->subscriptions.clear();
  return {};
}

const std::vector<std::string>& Consumer::subscriptions() const noexcept {
  static const std::vector<std::string> kNone;
  return impl_ ? impl_->subscriptions : kNone;
}

std::vector<messaging::MLOpsMessage> Consumer::receive(MessageFilter filter,
                                                       std::chrono::milliseconds timeout,
                                                       std::size_t max) {
  std::vector<messaging::MLOpsMessage> out;
  (void)receive(out, filter, timeout, max);
  return out;
}

std::vector<messaging::MLOpsMessage> Consumer::receive(std::chrono::milliseconds timeout,
                                                       std::size_t max) {
  return receive(MessageFilter(), timeout, max);
}

Status Consumer::receive(std::vector<messaging::MLOpsMessage>& out, MessageFilter filter,
                         std::chrono::milliseconds timeout, std::size_t max) noexcept {
  out.clear();
  if (impl_ == nullptr || impl_->closed) return Status::kClosed;
  auto& impl = *impl_;
  if (impl.subscriptions.empty()) {
    if (!impl.warned_no_topic) {
      impl.warned_no_topic = true;
      try {
        log(LogLevel::kWarning,
            "Consumer::receive() without subscriptions returns nothing; "
            "subscribe() first");
      } catch (...) {  // A failing log hook must not stop the consumer.
      }
    }
    return Status::kNoTopic;
  }
  if (max == 0) max = impl.options.max_batch;
  auto now = detail::Clock::now();
  const auto deadline = now + detail::clamp_timeout(timeout);
  // Within the receive's own deadline: a commit left undone now is tried at the next one.
  if (impl.options.auto_commit && impl.uncommitted &&
      impl.backend->commit_until(deadline) == Status::kOk &&
      impl.failures->commit() == Status::kOk) {
    impl.uncommitted = false;
    impl.commits.add();
  }
  impl.failures->begin_batch();
  for (;;) {
    impl.scratch.clear();
    impl.failures->take_due(out, filter, max, now);  // retries whose delay has passed
    if (out.size() >= max) {
      impl.received.add(out.size());
      return Status::kOk;
    }
    // Without due retries the poll waits, at most until the next retry falls due.
    const auto wait_until = out.empty() ? impl.failures->cap(deadline) : detail::Clock::now();
    const Status status = impl.backend->poll(impl.scratch, max - out.size(), wait_until);
    const bool got_any = !impl.scratch.empty();
    if (got_any) impl.uncommitted = true;
    for (auto& delivery : impl.scratch) {
      auto message = impl.open(delivery);
      if (!message) {
        impl.report_skipped(delivery, message.error());
        (void)impl.failures->dead_letter_corrupt(delivery.topic, delivery.bytes);
      } else if (filter(*message)) {
        impl.failures->note(*message, delivery.topic);
        out.push_back(std::move(*message));
      } else {
        impl.filtered_out.add();
      }
    }
    impl.scratch.clear();  // drop the references the backend handed up
    if (!out.empty()) {
      impl.received.add(out.size());
      return Status::kOk;
    }
    if (status == Status::kTimeout && wait_until < deadline) {  // a retry's turn
      now = detail::Clock::now();
      continue;
    }
    if (status != Status::kOk) return status;  // kTimeout: the backend waited already
    if (!got_any) return Status::kOk;          // a backend that never waits (none)
    // Everything was filtered out or skipped: wait for more until the deadline.
    now = detail::Clock::now();
    if (now >= deadline) return Status::kTimeout;
  }
}

Status Consumer::commit() noexcept {
  if (impl_ == nullptr || impl_->closed) return Status::kClosed;
  Status status = impl_->backend->commit();
  if (status == Status::kOk) status = impl_->failures->commit();
  if (status == Status::kOk) {
    impl_->uncommitted = false;
    impl_->commits.add();
  }
  return status;
}

void Consumer::close() noexcept {
  if (impl_ == nullptr || impl_->closed) return;
  impl_->closed = true;
  impl_->scratch.clear();
  impl_->failures->close();
  impl_->backend->close();
}

bool Consumer::is_closed() const noexcept { return impl_ == nullptr || impl_->closed; }

ConsumerStats Consumer::stats() const noexcept {
  if (impl_ == nullptr) return {};
  const auto failures = impl_->failures->counts();
  return {impl_->received.get(), impl_->filtered_out.get(), impl_->skipped_corrupt.get(),
          impl_->commits.get(),  impl_->legacy.get(),       impl_->skipped_legacy.get(),
          failures.retried,      failures.dead_lettered,    impl_->replay_skipped.get()};
}

Status Consumer::dead_letter(const messaging::MLOpsMessage& message,
                             std::string_view reason) noexcept {
  if (impl_ == nullptr || impl_->closed) return Status::kClosed;
  return impl_->failures->dead_letter(message, reason);
}

Status Consumer::retry(const messaging::MLOpsMessage& message, std::chrono::milliseconds delay,
                       std::string_view reason) noexcept {
  if (impl_ == nullptr || impl_->closed) return Status::kClosed;
  return impl_->failures->retry(message, delay, reason);
}

Status Consumer::retry(const messaging::MLOpsMessage& message, const Backoff& backoff,
                       std::string_view reason) noexcept {
  return retry(message, backoff.delay_for(message.retries()), reason);
}

Result<void> Consumer::seek(std::string_view topic, Position position) {
  if (impl_ == nullptr || impl_->closed) return closed_error();
  auto& impl = *impl_;
  if (std::find(impl.subscriptions.begin(), impl.subscriptions.end(), topic) ==
      impl.subscriptions.end()) {
    return Error{
        ErrorCode::kInvalidArgument,
        "seek: not subscribed to topic " + detail::quote_text(topic) + ": subscribe to it first"};
  }
  const std::int64_t now_ns = messaging::unix_now_ns();
  if (position.kind() == Position::Kind::kTime && position.time_ns() > now_ns) {
    return Error{ErrorCode::kInvalidArgument,
                 "seek: Position::at_time is " + std::to_string(position.time_ns() - now_ns) +
                     " ns in the future: nothing is at or after it yet (Position::latest() reads "
                     "only what comes next)"};
  }
  if (position.kind() == Position::Kind::kAfter && position.id().unix_ms() > now_ns / 1'000'000) {
    return Error{
        ErrorCode::kInvalidArgument,
        "seek: Position::after names an id made in the future (" + position.id().to_string() + ")"};
  }
  if (position.kind() == Position::Kind::kTime || position.kind() == Position::Kind::kAfter) {
    // The backend reads the topic for the start and moves the group there.
    auto moved =
        impl.backend->seek_to(topic, detail::make_seek_probe(position, impl.options.verify_limits));
    if (!moved) return moved.error();
    impl.replay_skipped.add(*moved);
    return {};
  }
  const bool to_latest = position.kind() == Position::Kind::kLatest;
  return impl.backend->seek(topic, to_latest);
}

const ConsumerOptions& Consumer::options() const noexcept {
  static const ConsumerOptions kDefaults;
  return impl_ ? impl_->options : kDefaults;
}

}  // namespace mlops::orchestration
