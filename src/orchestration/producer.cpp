#include "mlops/orchestration/producer.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <string>

#include "mlops/messaging/legacy_json.h"

#include "orchestration/backend.h"
#include "orchestration/deadline.h"
#include "orchestration/log_limiter.h"
#include "orchestration/producer_counts.h"
#include "orchestration/producer_sharing.h"
#include "orchestration/thread_token.h"
#include "orchestration/uri.h"
#include "orchestration/wire_option.h"

namespace mlops::orchestration {

struct Producer::Impl {
  std::unique_ptr<detail::ProducerBackend> backend;
  std::vector<std::string> topics;
  std::chrono::milliseconds flush_timeout;
  WireFormat wire = WireFormat::kFlatBuffers;
  std::atomic<bool> closed{false};
  detail::SendCounts counts;
  // For a backend that is not shareable: the thread inside a call (0: none), so a call from
  // another thread meanwhile is refused. A diagnostic without a locked instruction: two
  // calls that start at the same instant may both pass; any overlap seen is refused.
  const bool check_overlap;
  std::atomic<std::uintptr_t> inside{0};
  detail::LogLimiter problems{LogLevel::kError, "producer"};

  Impl(std::unique_ptr<detail::ProducerBackend> made, bool sharing)
      : backend(std::move(made)),
        counts(sharing && backend->shareable()),
        check_overlap(sharing && !backend->shareable()) {}

  /// Copies of one send(message, true), for ProducerBackend::confirm(). Past kMax topics the
  /// last slot is 0 (untracked: unknown unless the flush succeeds).
  struct Tickets {
    static constexpr std::size_t kMax = 16;
    std::array<std::uint64_t, kMax> numbers{};
    std::size_t count = 0;
  };

  /// Sends one copy; with `tickets`, keeps the copy's ticket there for a confirmed flush.
  Status send_to(std::string_view topic, const messaging::MLOpsMessage& message,
                 Tickets* tickets = nullptr) noexcept {
    std::uint64_t ticket = 0;
    const Status status = wire == WireFormat::kLegacyJson ? send_legacy(topic, message)
                          : tickets ? backend->send_tracked(topic, message, ticket)
                                    : backend->send(topic, message);
    counts.count(status);
    if (!tickets) return status;
    if (tickets->count < Tickets::kMax) {
      tickets->numbers[tickets->count++] = ticket;
    } else {
      tickets->numbers[Tickets::kMax - 1] = 0;  // an untracked copy: unknown unless flushed
    }
    return status;
  }

  /// The original's JSON, sent as raw bytes (the original's records had no headers).
  Status send_legacy(std::string_view topic, const messaging::MLOpsMessage& message) noexcept {
    try {
      auto json = messaging::legacy_json::encode(message);
      if (!json) {
        problems.log("wire=legacy-json: message not sent: " + json.error().message);
        return Status::kError;
      }
      return backend->send_raw(topic,
                               {reinterpret_cast<const std::uint8_t*>(json->data()), json->size()});
    } catch (...) {  // std::bad_alloc while encoding
      return Status::kError;
    }
  }

  /// One call (send, send_raw, flush) on this producer, for as long as it lives.
  class Call {
   public:
    explicit Call(Impl& impl) noexcept : impl_(impl) {
      if (!impl_.check_overlap) return;
      const auto me = detail::this_thread_token();
      previous_ = impl_.inside.load(std::memory_order_relaxed);
      // The same thread again is a call from a delivery callback inside a call.
      if (previous_ != 0 && previous_ != me) {
        admitted_ = false;
        return;
      }
      impl_.inside.store(me, std::memory_order_relaxed);
    }
    ~Call() {
      if (impl_.check_overlap && admitted_)
        impl_.inside.store(previous_, std::memory_order_relaxed);
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    /// False when another thread is inside a call: this one must do nothing.
    [[nodiscard]] bool admitted() const noexcept { return admitted_; }
    /// What a call that was not admitted returns.
    [[nodiscard]] Status refuse() noexcept {
      impl_.counts.count_failed();
      impl_.problems.log(
          "called from two threads at once, which this backend's producers do not allow (one "
          "thread at a time: give each thread a Producer of its own); the call was refused");
      return Status::kError;
    }

   private:
    Impl& impl_;
    std::uintptr_t previous_ = 0;
    bool admitted_ = true;
  };
};

Result<Producer> Producer::create(const Orchestration& orchestration, TopicList topics,
                                  ProducerOptions options) {
  if (const auto* invalid = topics.first_invalid()) {
    return Error{ErrorCode::kInvalidArgument,
                 "invalid topic name " + detail::quote_text(*invalid) +
                     ": topics match ^[A-Za-z0-9._-]{1,249}$ and are not . or .."};
  }
  if (orchestration.backend_ == nullptr) {
    return Error{ErrorCode::kInvalidArgument, "the orchestration was moved from"};
  }
  // Backends add send_timeout to the clock themselves: a huge one must not overflow there.
  options.send_timeout = detail::clamp_timeout(options.send_timeout);
  // The wire format: the producer's options win over the URI, which wins over the field.
  WireFormat wire = options.wire;
  const BackendOptions& given_options = options.backend;
  for (const BackendOptions* source : {&orchestration.options(), &given_options}) {
    auto given = detail::read_wire_option(*source);
    if (!given) return given.error();
    if (*given) wire = **given;
  }
  options.backend = detail::without_wire_option(std::move(options.backend));
  auto backend = orchestration.backend_->make_producer(options);
  if (!backend) return backend.error();
  auto impl = std::make_unique<Impl>(std::move(*backend), detail::producer_sharing());
  // A name given twice is one topic: the message goes to it once.
  for (const auto& name : topics.names()) {
    if (std::find(impl->topics.begin(), impl->topics.end(), name) == impl->topics.end()) {
      impl->topics.push_back(name);
    }
  }
  impl->flush_timeout = options.flush_timeout;
  impl->wire = wire;
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
  Impl::Call call(*impl_);
  if (!call.admitted()) return call.refuse();
  Status result = Status::kOk;
  Impl::Tickets tickets;
  const auto own_topics = message.topic();
  if (!own_topics.empty()) {
    // Check every name first, so an invalid one sends nothing.
    for (const auto topic : own_topics) {
      if (!is_valid_topic_name(topic)) {
        impl_->counts.count_failed();
        return Status::kInvalidTopic;
      }
    }
    // A name listed twice is one topic: send once to each distinct name. (A linear search
    // of the names before: lists are short, and it needs no memory.)
    for (auto it = own_topics.begin(); it != own_topics.end(); ++it) {
      if (std::find(own_topics.begin(), it, *it) != it) continue;
      const Status status = impl_->send_to(*it, message, flush ? &tickets : nullptr);
      if (result == Status::kOk) result = status;
    }
  } else if (!impl_->topics.empty()) {
    for (const auto& topic : impl_->topics) {
      const Status status = impl_->send_to(topic, message, flush ? &tickets : nullptr);
      if (result == Status::kOk) result = status;
    }
  } else {
    impl_->counts.count_failed();
    return Status::kNoTopic;
  }
  if (flush && result == Status::kOk) {
    // Sent: unless the backend says a copy was refused (certainly not held), a flush that
    // cannot confirm leaves it kDeliveryUnknown: it may still arrive. Not "timeout", which
    // means "not sent" to a sender.
    result = impl_->backend->confirm({tickets.numbers.data(), tickets.count},
                                     detail::deadline_after(impl_->flush_timeout));
  }
  return result;
}

Status Producer::send_to(std::string_view topic, const messaging::MLOpsMessage& message) noexcept {
  if (impl_ == nullptr || impl_->closed.load(std::memory_order_relaxed)) return Status::kClosed;
  Impl::Call call(*impl_);
  if (!call.admitted()) return call.refuse();
  if (!is_valid_topic_name(topic)) {
    impl_->counts.count_failed();
    return Status::kInvalidTopic;
  }
  return impl_->send_to(topic, message);
}

Status Producer::send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept {
  if (impl_ == nullptr || impl_->closed.load(std::memory_order_relaxed)) return Status::kClosed;
  Impl::Call call(*impl_);
  if (!call.admitted()) return call.refuse();
  if (!is_valid_topic_name(topic)) {
    impl_->counts.count_failed();
    return Status::kInvalidTopic;
  }
  const Status status = impl_->backend->send_raw(topic, bytes);
  impl_->counts.count(status);
  return status;
}

Status Producer::flush(std::chrono::milliseconds timeout) noexcept {
  if (impl_ == nullptr || impl_->closed.load(std::memory_order_relaxed)) return Status::kClosed;
  Impl::Call call(*impl_);
  if (!call.admitted()) return call.refuse();
  return impl_->backend->flush(detail::deadline_after(timeout));
}

Status Producer::close() noexcept {
  if (impl_ == nullptr || impl_->closed.exchange(true)) return Status::kClosed;
  const Status status = impl_->backend->flush(detail::deadline_after(impl_->flush_timeout));
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
  return impl_->counts.get();
}

}  // namespace mlops::orchestration
