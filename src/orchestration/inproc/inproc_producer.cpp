#include "orchestration/inproc/inproc_producer.h"

#include <cstring>

namespace mlops::orchestration::detail::inproc {
namespace {

// An 8-byte aligned, reference-counted copy of `bytes` (one allocation).
std::shared_ptr<const std::uint64_t[]> aligned_copy(std::span<const std::uint8_t> bytes) {
  auto words = std::make_shared_for_overwrite<std::uint64_t[]>((bytes.size() + 7) / 8);
  if (!bytes.empty()) std::memcpy(words.get(), bytes.data(), bytes.size());
  return words;
}

}  // namespace

Topic& InprocProducer::topic(std::string_view name) {
  if (last_topic_ == nullptr || name != last_name_) {
    last_topic_ = &broker_.topic(name);
    last_name_ = name;
  }
  return *last_topic_;
}

Status InprocProducer::publish(std::string_view name, Entry&& entry) noexcept {
  try {
    return topic(name).publish(std::move(entry), options_.back_pressure, options_.send_timeout);
  } catch (...) {  // Out of memory creating the topic.
    return Status::kError;
  }
}

Status InprocProducer::send(std::string_view name, const messaging::MLOpsMessage& message) noexcept {
  Entry entry;
  entry.size = message.bytes().size();
  try {
    if (message.is_owning()) {
      entry.message = message;  // shared with every consumer: no copy of the bytes
    } else {
      // A view (MessageBuilder::build_view) dies with the caller's builder: keep a copy.
      auto copy = aligned_copy(message.bytes());
      auto owned = messaging::MLOpsMessage::from_shared(
          {reinterpret_cast<const std::uint8_t*>(copy.get()), entry.size},
          std::shared_ptr<const void>(copy, copy.get()));
      if (!owned) return Status::kError;
      entry.message = std::move(*owned);
    }
  } catch (...) {
    return Status::kError;
  }
  if (!options_.on_delivery) return publish(name, std::move(entry));
  auto reported = *entry.message;
  const Status status = publish(name, std::move(entry));
  if (status == Status::kOk) options_.on_delivery(DeliveryReport{name, std::move(reported), status});
  return status;
}

Status InprocProducer::send_raw(std::string_view name, std::span<const std::uint8_t> bytes) noexcept {
  Entry entry;
  entry.size = bytes.size();
  try {
    entry.raw = aligned_copy(bytes);
  } catch (...) {
    return Status::kError;
  }
  return publish(name, std::move(entry));
}

}  // namespace mlops::orchestration::detail::inproc
