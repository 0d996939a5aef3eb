#include "orchestration/mmap/mmap_backend.h"

#include "mlops/log.h"
#include "orchestration/mmap/mmap_consumer.h"
#include "orchestration/mmap/mmap_producer.h"
#include "orchestration/mmap/queue.h"
#include "orchestration/mmap/topic_lag.h"

#include <algorithm>

namespace mlops::orchestration::detail::mmap {
namespace {

using mmap::Queue;
using mmap::QueueSettings;

class MmapAdmin final : public AdminBackend {
 public:
  explicit MmapAdmin(std::shared_ptr<Queue> queue) : queue_(std::move(queue)) {}

  Result<void> validate_connection(Deadline /*deadline*/) override {
    // The directory was opened (and is writable) when the backend was; check it still is.
    auto names = queue_->topic_names();
    if (!names) return names.error();
    return {};
  }
  Result<std::vector<std::string>> topics() override { return queue_->topic_names(); }
  Result<void> create_topic(std::string_view name, const TopicOptions& /*options*/) override {
    // Limits of TopicOptions do not apply: an mmap topic is bounded by retention, not memory.
    auto log = queue_->topic(name);
    if (!log) return log.error();
    return {};
  }
  Result<std::vector<TopicLag>> lag(
      std::string_view topic, const std::optional<std::vector<std::string>>& groups) override {
    auto names = queue_->topic_names();
    if (!names) return names.error();
    if (!topic.empty()) {
      // queue_->topic() would create a missing topic; a read must not.
      if (std::find(names->begin(), names->end(), topic) == names->end()) {
        return Error{ErrorCode::kNotFound,
                     "no topic '" + std::string(topic) + "' in " + queue_->directory()};
      }
      *names = {std::string(topic)};
    }
    std::vector<TopicLag> result;
    std::string unreadable;  // the damaged topics left out, each with why
    for (const auto& name : *names) {
      // Read-only: a listing must not repair or write the queue it looks at.
      auto log = queue_->topic_to_read(name);
      if (!log) {
        // A listing is what one runs on a damaged queue: one bad topic does not hide the rest.
        if (!topic.empty()) return log.error();
        unreadable +=
            (unreadable.empty() ? "" : "; ") + ("'" + name + "' (" + log.error().message + ")");
        continue;
      }
      result.push_back(mmap::topic_lag(*log, groups));
    }
    if (!unreadable.empty()) {
      mlops::log(LogLevel::kError, "mmap queue: topics left out of the listing of " +
                                       queue_->directory() + ", unreadable: " + unreadable);
    }
    return result;
  }

 private:
  std::shared_ptr<Queue> queue_;
};

class MmapBackend final : public Backend {
 public:
  explicit MmapBackend(std::shared_ptr<Queue> queue) : queue_(std::move(queue)) {}

  Result<std::unique_ptr<ProducerBackend>> make_producer(const ProducerOptions& options) override {
    auto settings =
        mmap::read_settings(options.backend, queue_->settings(), mmap::SettingsRole::kProducer);
    if (!settings) return settings.error();
    return std::unique_ptr<ProducerBackend>(
        std::make_unique<mmap::MmapProducer>(queue_, *settings, options));
  }
  Result<std::unique_ptr<ConsumerBackend>> make_consumer(const ConsumerOptions& options) override {
    auto settings =
        mmap::read_settings(options.backend, queue_->settings(), mmap::SettingsRole::kConsumer);
    if (!settings) return settings.error();
    return std::unique_ptr<ConsumerBackend>(
        std::make_unique<mmap::MmapConsumer>(queue_, *settings, options));
  }
  Result<std::unique_ptr<AdminBackend>> make_admin() override {
    return std::unique_ptr<AdminBackend>(std::make_unique<MmapAdmin>(queue_));
  }

 private:
  std::shared_ptr<Queue> queue_;
};

}  // namespace

Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint) {
  auto settings =
      mmap::read_settings(endpoint.options, QueueSettings{}, mmap::SettingsRole::kQueue);
  if (!settings) return settings.error();
  auto queue = Queue::open(endpoint.connection, *settings);
  if (!queue) return queue.error();
  return std::shared_ptr<Backend>(std::make_shared<MmapBackend>(std::move(*queue)));
}

}  // namespace mlops::orchestration::detail::mmap
