#include "orchestration/mmap/mmap_producer.h"

#include "mlops/log.h"

namespace mlops::orchestration::detail::mmap {
LogWriter* MmapProducer::writer_for(std::string_view topic) {
  if (last_writer_ != nullptr && topic == last_topic_) return last_writer_;
  if (auto found = writers_.find(topic); found != writers_.end()) {
    last_topic_ = found->first;  // Views the map's key, which lives as long as the entry.
    last_writer_ = &found->second;
    return last_writer_;
  }
  auto log = queue_->topic(topic);
  if (!log) {
    problems_.log(log.error().message);
    return nullptr;
  }
  const auto inserted = writers_.emplace(std::string(topic), LogWriter(*log)).first;
  last_topic_ = inserted->first;
  last_writer_ = &inserted->second;
  return last_writer_;
}

Status MmapProducer::append(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept {
  try {
    if (settings_.max_message_bytes != 0 && bytes.size() > settings_.max_message_bytes) {
      return Status::kTooLarge;
    }
    LogWriter* writer = writer_for(topic);
    if (writer == nullptr) return Status::kError;
    auto appended = writer->append(bytes);
    if (appended) return Status::kOk;
    if (appended.error().code == ErrorCode::kTooLarge) return Status::kTooLarge;
    problems_.log(appended.error().message);
    return Status::kError;
  } catch (...) {
    return Status::kError;  // Out of memory building an error message or a topic entry.
  }
}

Status MmapProducer::send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept {
  const Status status = append(topic, message.bytes());
  if (status == Status::kOk && options_.on_delivery) {
    options_.on_delivery(DeliveryReport{topic, message, status});
  }
  return status;
}

Status MmapProducer::send_raw(std::string_view topic,
                              std::span<const std::uint8_t> bytes) noexcept {
  return append(topic, bytes);
}

Status MmapProducer::flush(detail::Deadline /*deadline*/) noexcept {
  // msync has no timeout of its own; it is bounded by the disk, not by other processes.
  try {
    for (auto& [topic, writer] : writers_) {
      if (auto synced = writer.sync(); !synced) {
        problems_.log(synced.error().message);
        return Status::kError;
      }
    }
    return Status::kOk;
  } catch (...) {
    return Status::kError;
  }
}

void MmapProducer::close() noexcept {
  last_writer_ = nullptr;
  last_topic_ = {};
  writers_.clear();
}

}  // namespace mlops::orchestration::detail::mmap
