#include "orchestration/dead_letter.h"

#include <chrono>

#include "mlops/log.h"
#include "mlops/messaging/message_builder.h"
#include "mlops/messaging/message_id.h"
#include "mlops/orchestration/producer_options.h"
#include "mlops/orchestration/topic_list.h"

namespace mlops::orchestration::detail {

std::string suffixed_topic(std::string_view topic, std::string_view suffix) {
  std::string name;
  name.reserve(topic.size() + suffix.size());
  name.append(topic).append(suffix);
  if (!is_valid_topic_name(name)) name.clear();
  return name;
}

messaging::MLOpsMessage make_dead_letter(const messaging::MLOpsMessage& message,
                                         std::string_view topic, std::string_view reason) {
  auto builder = messaging::MessageBuilder::from_message(message);
  builder.with_additional_argument(kDlqReason, reason)
      .with_additional_argument(kDlqTopic, topic)
      .with_additional_argument(kDlqTime, messaging::unix_now_ns());
  if (const auto id = message.id()) builder.with_id(*id);  // the same message, dead
  if (const auto stamp = message.timestamp()) builder.with_timestamp(*stamp);
  return builder.build();
}

messaging::MLOpsMessage make_retry_copy(const messaging::MLOpsMessage& message,
                                        std::string_view topic, std::string_view group,
                                        std::string_view reason, std::int64_t due_unix_ns) {
  auto builder = messaging::MessageBuilder::from_message(message);
  builder.with_retries(message.retries() + 1)
      .with_additional_argument(kRetryReason, reason)
      .with_additional_argument(kRetryDue, due_unix_ns)
      .with_additional_argument(kRetryTopic, topic)
      .with_additional_argument(kRetryGroup, group);
  return builder.build();  // a new id and timestamp: a new attempt
}

SideProducer::SideProducer(std::shared_ptr<Backend> backend) noexcept
    : backend_(std::move(backend)) {}
SideProducer::~SideProducer() { close(); }

ProducerBackend* SideProducer::get() noexcept {
  if (producer_ == nullptr && backend_ != nullptr) {
    try {
      auto made = backend_->make_producer(ProducerOptions{});
      if (!made) {
        log(LogLevel::kError, "consumer: cannot make the producer for dead letters and retries: " +
                                  made.error().message);
        return nullptr;
      }
      producer_ = std::move(*made);
    } catch (...) {
      return nullptr;
    }
  }
  return producer_.get();
}

Status SideProducer::flush() noexcept {
  const auto deadline = Clock::now() + ProducerOptions{}.flush_timeout;
  return producer_->flush(deadline);
}

Status SideProducer::send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept {
  auto* producer = get();
  if (producer == nullptr) return Status::kError;
  const Status sent = producer->send(topic, message);
  return sent == Status::kOk ? flush() : sent;
}

Status SideProducer::send_raw(std::string_view topic,
                              std::span<const std::uint8_t> bytes) noexcept {
  auto* producer = get();
  if (producer == nullptr) return Status::kError;
  const Status sent = producer->send_raw(topic, bytes);
  return sent == Status::kOk ? flush() : sent;
}

void SideProducer::close() noexcept {
  if (producer_ != nullptr) {
    producer_->close();
    producer_.reset();
  }
}

}  // namespace mlops::orchestration::detail
