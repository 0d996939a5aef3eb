#include "orchestration/inproc/inproc_producer.h"

#include <optional>

#include "messaging/owned_buffer.h"

namespace mlops::orchestration::detail::inproc {

Topic* InprocProducer::topic(std::string_view name) noexcept {
  if (const Found* last = last_.load(std::memory_order_acquire);
      last != nullptr && last->name == name) {
    return last->topic;
  }
  try {
    const std::lock_guard lock(found_mutex_);
    auto entry = found_.find(name);
    if (entry == found_.end()) {
      auto made = std::make_unique<const Found>(Found{std::string(name), &broker_.topic(name)});
      entry = found_.emplace(made->name, std::move(made)).first;
    }
    last_.store(entry->second.get(), std::memory_order_release);
    return entry->second->topic;
  } catch (...) {  // Out of memory creating the topic.
    return nullptr;
  }
}

Status InprocProducer::send(std::string_view name,
                            const messaging::MLOpsMessage& message) noexcept {
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
  const Status status = target->publish(held, options_.back_pressure, options_.send_timeout);
  if (status == Status::kOk && options_.on_delivery) {
    options_.on_delivery(DeliveryReport{name, held, status});
  }
  return status;
}

Status InprocProducer::send_raw(std::string_view name,
                                std::span<const std::uint8_t> bytes) noexcept {
  Topic* target = topic(name);
  if (target == nullptr) return Status::kError;
  RawPayload raw;  // aligned, so consumers verify it in place
  try {
    auto copy = messaging::detail::copy_to_owned_buffer(bytes);
    raw.bytes = {copy.data, copy.size};
    raw.owner = std::move(copy.owner);
  } catch (...) {
    return Status::kError;
  }
  return target->publish(raw, options_.back_pressure, options_.send_timeout);
}

}  // namespace mlops::orchestration::detail::inproc
