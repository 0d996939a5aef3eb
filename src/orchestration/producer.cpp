#include "mlops/orchestration/producer.h"

#include <algorithm>
#include <atomic>

#include "orchestration/backend.h"
#include "orchestration/uri.h"

namespace mlops::orchestration {
namespace {

// Written by the producer's thread, read by any (stats()).
struct Counter {
  std::atomic<std::uint64_t> value{0};
  void add() noexcept { value.store(value.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

}  // namespace

struct Producer::Impl {
  std::unique_ptr<detail::ProducerBackend> backend;
  std::vector<std::string> topics;
  std::chrono::milliseconds flush_timeout;
  std::atomic<bool> closed{false};
  Counter sent;
  Counter back_pressured;
  Counter failed;

  Status send_to(std::string_view topic, const messaging::MLOpsMessage& message) noexcept {
    const Status status = backend->send(topic, message);
    count(status);
    return status;
  }
  void count(Status status) noexcept {
    if (status == Status::kOk) {
      sent.add();
    } else if (status == Status::kBackPressured || status == Status::kTimeout) {
      back_pressured.add();
    } else {
      failed.add();
    }
  }
};

Result<Producer> Producer::create(const Orchestration& orchestration, TopicList topics,
                                  ProducerOptions options) {
  if (const auto* invalid = topics.first_invalid()) {
    return Error{ErrorCode::kInvalidArgument,
                 "invalid topic name " + detail::quote_text(*invalid) +
                     ": topics match ^[A-Za-z0-9._-]{1,249}$"};
  }
  if (orchestration.backend_ == nullptr) {
    return Error{ErrorCode::kInvalidArgument, "the orchestration was moved from"};
  }
  auto backend = orchestration.backend_->make_producer(options);
  if (!backend) return backend.error();
  auto impl = std::make_unique<Impl>();
  impl->backend = std::move(*backend);
  // A name given twice is one topic: the message goes to it once.
  for (const auto& name : topics.names()) {
    if (std::find(impl->topics.begin(), impl->topics.end(), name) == impl->topics.end()) {
      impl->topics.push_back(name);
    }
  }
  impl->flush_timeout = options.flush_timeout;
  return Producer(std::move(impl));
}

Producer::Producer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&& other) noexcept {
  if (this != &other) {
    (void)close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Producer::~Producer() { (void)close(); }

Status Producer::send(const messaging::MLOpsMessage& message, bool flush) noexcept {
  if (impl_ == nullptr || impl_->closed.load(std::memory_order_relaxed)) return Status::kClosed;
  Status result = Status::kOk;
  const auto own_topics = message.topic();
  if (!own_topics.empty()) {
    // Check every name first, so an invalid one sends nothing.
    for (const auto topic : own_topics) {
      if (!is_valid_topic_name(topic)) {
        impl_->failed.add();
        return Status::kInvalidTopic;
      }
    }
    // A name listed twice is one topic: send once to each distinct name. (A linear search
    // of the names before: lists are short, and it needs no memory.)
    for (auto it = own_topics.begin(); it != own_topics.end(); ++it) {
      if (std::find(own_topics.begin(), it, *it) != it) continue;
      const Status status = impl_->send_to(*it, message);
      if (result == Status::kOk) result = status;
    }
  } else if (!impl_->topics.empty()) {
    for (const auto& topic : impl_->topics) {
      const Status status = impl_->send_to(topic, message);
      if (result == Status::kOk) result = status;
    }
  } else {
    impl_->failed.add();
    return Status::kNoTopic;
  }
  if (flush && result == Status::kOk) {
    // Sent: if the flush cannot confirm it, it may still arrive. Not "timeout", which
    // means "not sent" to a sender.
    if (impl_->backend->flush(detail::Clock::now() + impl_->flush_timeout) != Status::kOk) {
      result = Status::kDeliveryUnknown;
    }
  }
  return result;
}

Status Producer::send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept {
  if (impl_ == nullptr || impl_->closed.load(std::memory_order_relaxed)) return Status::kClosed;
  if (!is_valid_topic_name(topic)) {
    impl_->failed.add();
    return Status::kInvalidTopic;
  }
  const Status status = impl_->backend->send_raw(topic, bytes);
  impl_->count(status);
  return status;
}

Status Producer::flush(std::chrono::milliseconds timeout) noexcept {
  if (impl_ == nullptr || impl_->closed.load(std::memory_order_relaxed)) return Status::kClosed;
  return impl_->backend->flush(detail::Clock::now() + timeout);
}

Status Producer::close() noexcept {
  if (impl_ == nullptr || impl_->closed.exchange(true)) return Status::kClosed;
  const Status status = impl_->backend->flush(detail::Clock::now() + impl_->flush_timeout);
  impl_->backend->close();
  return status;
}

const std::vector<std::string>& Producer::topics() const noexcept {
  static const std::vector<std::string> kNone;
  return impl_ ? impl_->topics : kNone;
}

bool Producer::is_closed() const noexcept {
  return impl_ == nullptr || impl_->closed.load(std::memory_order_relaxed);
}

ProducerStats Producer::stats() const noexcept {
  if (impl_ == nullptr) return {};
  return {impl_->sent.get(), impl_->back_pressured.get(), impl_->failed.get()};
}

}  // namespace mlops::orchestration
