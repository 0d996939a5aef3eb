#pragma once
// Admin::lag() for one mmap topic: its extent, message count, bytes, and each consumer
// group's committed position and lag. Reads the group cursors without locking them (through
// committed_positions), so it never joins or moves a group.

#include <string>
#include <vector>

#include "mlops/orchestration/admin.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::detail::mmap {

/// What `log` holds and how far its groups got; `only_groups` limits the groups reported
/// (nullopt: all). Counts the published records from the oldest held to the tail once.
TopicLag topic_lag(const std::shared_ptr<TopicLog>& log,
                   const std::optional<std::vector<std::string>>& only_groups);

}  // namespace mlops::orchestration::detail::mmap
