#pragma once
// A consumer on an mmap queue: per subscribed topic a LogReader and, for a named group, the
// group's durable cursor (held locked while this consumer is the group's active one).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestration/backend.h"
#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/queue.h"

namespace mlops::orchestration::mmap {

class MmapConsumer final : public detail::ConsumerBackend {
 public:
  MmapConsumer(std::shared_ptr<Queue> queue, QueueSettings settings, ConsumerOptions options)
      : queue_(std::move(queue)), settings_(settings), options_(std::move(options)) {}

  Result<void> assign(std::span<const std::string> topics) override;
  Status poll(std::vector<detail::Delivery>& out, std::size_t max,
              detail::Deadline deadline) noexcept override;
  Status commit() noexcept override;
  void close() noexcept override;

 private:
  struct Subscription {
    std::string topic;
    LogReader reader;
    std::optional<GroupCursor> cursor;  // None for a consumer without a group.
  };

  Result<Subscription> subscribe(const std::string& topic);
  std::size_t collect(std::vector<detail::Delivery>& out, std::size_t max);
  bool any_at_pending_record() const noexcept;

  std::shared_ptr<Queue> queue_;
  QueueSettings settings_;
  ConsumerOptions options_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::size_t next_topic_ = 0;  // Round robin, so one busy topic cannot starve the rest.
};

}  // namespace mlops::orchestration::mmap
