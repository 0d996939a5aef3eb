#pragma once
// A consumer on an mmap queue: per subscribed topic a LogReader and, for a named group, its
// membership of the group (GroupMember: claimed ranges with leases, shared with the other
// members, threads or processes, of the group).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestration/backend.h"
#include "orchestration/mmap/group_member.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/queue.h"

namespace mlops::orchestration::detail::mmap {

/// Used from one thread at a time, and only by the process that made it: in a forked
/// child it refuses every call (kError, logged once), since its claims stay the parent's.
class MmapConsumer final : public detail::ConsumerBackend {
 public:
  MmapConsumer(std::shared_ptr<Queue> queue, QueueSettings settings, ConsumerOptions options);

  Result<void> assign(std::span<const std::string> topics) override;
  Status poll(std::vector<detail::Delivery>& out, std::size_t max,
              detail::Deadline deadline) noexcept override;
  Status commit() noexcept override;
  Status commit_until(detail::Deadline deadline) noexcept override;
  Result<void> seek(std::string_view topic, bool to_latest) override;
  Result<std::uint64_t> seek_to(std::string_view topic, const detail::SeekProbe& probe) override;
  void close() noexcept override;

 private:
  // Commits every group membership, waiting for each lock until `deadline`; a busy lock is
  // logged only with `report_busy`.
  Status commit_members(detail::Deadline deadline, bool report_busy) noexcept;
  struct Subscription {
    std::string topic;
    LogReader reader;
    std::optional<GroupMember> member;  // None for a consumer without a group.
  };

  Result<void> move_to(Subscription& sub, std::uint64_t position);
  Result<Subscription> subscribe(const std::string& topic);
  std::size_t collect(std::vector<detail::Delivery>& out, std::size_t max,
                      detail::Deadline deadline);
  bool any_stopped_early() const noexcept;
  bool forked_away() noexcept;
  void sleep(std::chrono::nanoseconds wait, std::vector<detail::Delivery>& out, std::size_t max,
             detail::Deadline deadline);

  std::shared_ptr<Queue> queue_;
  QueueSettings settings_;
  ConsumerOptions options_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::size_t next_topic_ = 0;  // Round robin, so one busy topic cannot starve the rest.
  std::uint32_t owner_pid_;
  bool fork_reported_ = false;
  bool group_busy_ = false;  // The last claim found a group's lock taken: look again soon.
};

}  // namespace mlops::orchestration::detail::mmap
