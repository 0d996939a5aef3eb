#include "orchestration/inproc/inproc_producer.h"

#include <optional>

#include "messaging/owned_buffer.h"

namespace mlops::orchestration::detail::inproc {

Topic* InprocProducer::topic(std::string_view name) noexcept {
  if (last_topic_ == nullptr || name != last_name_) {
    try {
      last_topic_ = &broker_.topic(name);
      last_name_ = name;
    } catch (...) {  // Out of memory creating the topic.
      last_topic_ = nullptr;
      return nullptr;
    }
  }
  return last_topic_;
}

Status InprocProducer::send(std::string_view name, const messaging::MLOpsMessage& message) noexcept {
  Topic* target = topic(name);
  if (target == nullptr) return Status::kError;
  // A view (MessageBuilder::build_view) dies with the caller's builder: keep a copy.
  // An owning message is shared with every consumer: no copy of the bytes.
  std::optional<messaging::MLOpsMessage> copy;
  if (!message.is_owning()) {
    try {
      copy.emplace(message.owned());
    } catch (...) {
      return Status::kError;
    }
  }
  const auto& held = copy ? *copy : message;
  const Status status =
      target->publish(held, /*verified=*/true, options_.back_pressure, options_.send_timeout);
  if (status == Status::kOk && options_.on_delivery) {
    options_.on_delivery(DeliveryReport{name, held, status});
  }
  return status;
}

Status InprocProducer::send_raw(std::string_view name, std::span<const std::uint8_t> bytes) noexcept {
  Topic* target = topic(name);
  if (target == nullptr) return Status::kError;
  std::optional<messaging::MLOpsMessage> raw;  // aligned, so consumers verify it in place
  try {
    auto copy = messaging::detail::copy_to_owned_buffer(bytes);
    // Message in form only: the topic marks it unverified, and consumers verify it first.
    raw.emplace(messaging::MLOpsMessage::trusted(copy.data, copy.size, std::move(copy.owner)));
  } catch (...) {
    return Status::kError;
  }
  return target->publish(*raw, /*verified=*/false, options_.back_pressure, options_.send_timeout);
}

}  // namespace mlops::orchestration::detail::inproc
