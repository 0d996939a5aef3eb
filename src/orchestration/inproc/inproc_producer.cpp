#include "orchestration/inproc/inproc_producer.h"

#include <cstring>
#include <optional>

namespace mlops::orchestration::detail::inproc {
namespace {

// An 8-byte aligned, reference-counted copy of `bytes` (one allocation).
std::shared_ptr<const std::uint64_t[]> aligned_copy(std::span<const std::uint8_t> bytes) {
  auto words = std::make_shared_for_overwrite<std::uint64_t[]>((bytes.size() + 7) / 8);
  if (!bytes.empty()) std::memcpy(words.get(), bytes.data(), bytes.size());
  return words;
}

}  // namespace

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
      auto words = aligned_copy(message.bytes());
      auto owned = messaging::MLOpsMessage::from_shared(
          {reinterpret_cast<const std::uint8_t*>(words.get()), message.bytes().size()},
          std::shared_ptr<const void>(words, words.get()));
      if (!owned) return Status::kError;
      copy.emplace(std::move(*owned));
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

Status InprocProducer::send_raw(std::string_view name, std::span<const std::uint8_t> bytes) noexcept {
  Topic* target = topic(name);
  if (target == nullptr) return Status::kError;
  std::shared_ptr<const std::uint64_t[]> raw;
  try {
    raw = aligned_copy(bytes);
  } catch (...) {
    return Status::kError;
  }
  return target->publish_raw(std::move(raw), bytes.size(), options_.back_pressure,
                             options_.send_timeout);
}

}  // namespace mlops::orchestration::detail::inproc
