#pragma once
// inproc producer: appends to a topic of its broker; a message is held once send() returns.

#include <string>

#include "orchestration/backend.h"
#include "orchestration/inproc/broker.h"

namespace mlops::orchestration::detail::inproc {

class InprocProducer final : public ProducerBackend {
 public:
  InprocProducer(Broker& broker, ProducerOptions options)
      : broker_(broker), options_(std::move(options)) {}

  Status send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept override;
  Status send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept override;
  /// Everything sent is in the broker already.
  Status flush(Deadline) noexcept override { return Status::kOk; }
  void close() noexcept override {}

 private:
  /// The topic called `name`, or nullptr when out of memory creating it.
  Topic* topic(std::string_view name) noexcept;

  Broker& broker_;
  const ProducerOptions options_;
  // The last topic used: most producers send to one, so this skips the broker's lock.
  std::string last_name_;
  Topic* last_topic_ = nullptr;
};

}  // namespace mlops::orchestration::detail::inproc
