#include "mlops/orchestration/consumer.h"

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "mlops/log.h"
#include "orchestration/backend.h"
#include "orchestration/deadline.h"
#include "orchestration/uri.h"

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
  ConsumerOptions options;
  std::vector<std::string> subscriptions;
  std::vector<detail::Delivery> scratch;  // reused, so steady-state receive allocates nothing
  bool closed = false;
  bool uncommitted = false;
  bool warned_no_topic = false;
  Counter received;
  Counter filtered_out;
  Counter skipped_corrupt;
  Counter commits;

  /// Verifies a raw payload; takes its owner (the delivery is done with afterwards).
  Result<messaging::MLOpsMessage> verify(detail::Delivery& delivery) const {
    const auto address = reinterpret_cast<std::uintptr_t>(delivery.bytes.data());
    if (address % kMessageAlignment == 0) {
      return messaging::MLOpsMessage::from_shared(delivery.bytes, std::move(delivery.owner),
                                                  options.verify_limits);
    }
    return messaging::MLOpsMessage::from_bytes(delivery.bytes, options.verify_limits);
  }

  void report_skipped(const detail::Delivery& delivery, const Error& error) noexcept {
    skipped_corrupt.add();
    const auto count = skipped_corrupt.get();
    if (!worth_logging(count)) return;
    try {
      log(LogLevel::kWarning,
          "consumer skipped a foreign or corrupt payload of " +
              std::to_string(delivery.bytes.size()) + " bytes on topic " +
              detail::quote_text(delivery.topic) + " (" + std::to_string(count) +
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
  auto backend = orchestration.backend_->make_consumer(options);
  if (!backend) return backend.error();
  auto impl = std::make_unique<Impl>();
  impl->backend = std::move(*backend);
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
                     ": topics match ^[A-Za-z0-9._-]{1,249}$"};
  }
  std::vector<std::string> wanted;
  if (!override) wanted = impl_->subscriptions;
  for (const auto& topic : topics.names()) {
    if (std::find(wanted.begin(), wanted.end(), topic) == wanted.end()) wanted.push_back(topic);
  }
  if (auto assigned = impl_->backend->assign(wanted); !assigned) return assigned.error();
  impl_->subscriptions = std::move(wanted);
  return {};
}

Result<void> Consumer::unsubscribe() {
  if (impl_ == nullptr || impl_->closed) return closed_error();
  if (auto assigned = impl_->backend->assign({}); !assigned) return assigned.error();
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
        log(LogLevel::kWarning, "Consumer::receive() without subscriptions returns nothing; "
                                "subscribe() first");
      } catch (...) {  // A failing log hook must not stop the consumer.
      }
    }
    return Status::kNoTopic;
  }
  if (max == 0) max = impl.options.max_batch;
  const auto deadline = detail::deadline_after(timeout);
  // Within the receive's own deadline: a commit left undone now is tried at the next one.
  if (impl.options.auto_commit && impl.uncommitted &&
      impl.backend->commit_until(deadline) == Status::kOk) {
    impl.uncommitted = false;
    impl.commits.add();
  }
  for (;;) {
    impl.scratch.clear();
    const Status status = impl.backend->poll(impl.scratch, max, deadline);
    const bool got_any = !impl.scratch.empty();
    if (got_any) impl.uncommitted = true;
    for (auto& delivery : impl.scratch) {
      if (delivery.message) {
        if (delivery.unverified) {
          auto checked = messaging::MLOpsMessage::borrow(delivery.bytes, impl.options.verify_limits);
          if (!checked) {
            impl.report_skipped(delivery, checked.error());
            continue;
          }
        }
        if (filter(*delivery.message)) {
          out.push_back(std::move(*delivery.message));
        } else {
          impl.filtered_out.add();
        }
        continue;
      }
      auto message = impl.verify(delivery);
      if (!message) {
        impl.report_skipped(delivery, message.error());
      } else if (filter(*message)) {
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
    if (status != Status::kOk) return status;  // kTimeout: the backend waited already
    if (!got_any) return Status::kOk;          // a backend that never waits (none)
    // Everything was filtered out or skipped: wait for more until the deadline.
    if (detail::Clock::now() >= deadline) return Status::kTimeout;
  }
}

Status Consumer::commit() noexcept {
  if (impl_ == nullptr || impl_->closed) return Status::kClosed;
  const Status status = impl_->backend->commit();
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
  impl_->backend->close();
}

bool Consumer::is_closed() const noexcept { return impl_ == nullptr || impl_->closed; }

ConsumerStats Consumer::stats() const noexcept {
  if (impl_ == nullptr) return {};
  return {impl_->received.get(), impl_->filtered_out.get(), impl_->skipped_corrupt.get(),
          impl_->commits.get()};
}

const ConsumerOptions& Consumer::options() const noexcept {
  static const ConsumerOptions kDefaults;
  return impl_ ? impl_->options : kDefaults;
}

}  // namespace mlops::orchestration
