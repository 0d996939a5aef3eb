#pragma once
// inproc producer: appends to a topic of its broker; a message is held once send() returns.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "orchestration/backend.h"
#include "orchestration/inproc/broker.h"

namespace mlops::orchestration::detail::inproc {

/// Shareable: topics take concurrent publishes, and the producer's own state is a cache of
/// topics found so far that any thread reads without a lock.
class InprocProducer final : public ProducerBackend {
 public:
  InprocProducer(Broker& broker, ProducerOptions options)
      : broker_(broker), options_(std::move(options)) {}

  bool shareable() const noexcept override { return true; }

  Status send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept override;
  Status send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept override;
  /// Everything sent is in the broker already.
  Status flush(Deadline) noexcept override { return Status::kOk; }
  void close() noexcept override {}

 private:
  /// The topic called `name`, or nullptr when out of memory creating it.
  Topic* topic(std::string_view name) noexcept;

  /// A topic found, named; immutable once published in last_.
  struct Found {
    std::string name;
    Topic* topic;
  };

  Broker& broker_;
  const ProducerOptions options_;
  // The last topic used: most producers send to one, so this skips the broker's lock. Any
  // thread reads it; entries live as long as the producer (one per topic it sent to).
  std::atomic<const Found*> last_{nullptr};
  std::mutex found_mutex_;
  std::map<std::string, std::unique_ptr<const Found>, std::less<>> found_;
};

}  // namespace mlops::orchestration::detail::inproc
