#include "orchestration/mmap/topic_lag.h"

#include <algorithm>

#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/log_reader.h"

namespace mlops::orchestration::detail::mmap {

TopicLag topic_lag(const std::shared_ptr<TopicLog>& log,
                   const std::optional<std::vector<std::string>>& only_groups) {
  TopicLag result;
  result.topic = log->name();
  result.start = log->earliest();
  result.end = log->latest();
  result.bytes = log->segment_indexes().size() * log->segment_bytes();
  for (auto& [name, committed] : committed_positions(log->groups())) {
    if (only_groups &&
        std::find(only_groups->begin(), only_groups->end(), name) == only_groups->end()) {
      continue;
    }
    result.groups.push_back(GroupLag{name, committed, 0});
  }
  // One pass over the records: a group's lag is the number of records at or after its
  // committed position (all of them when it never committed). The pass stops at the first
  // record still being written, so it reports what is published now.
  LogReader reader(log, result.start);
  LogRecord record;
  while (reader.next(record)) {
    ++result.messages;
    for (auto& group : result.groups) {
      if (!group.committed || record.position >= *group.committed) ++group.lag;
    }
  }
  return result;
}

}  // namespace mlops::orchestration::detail::mmap
