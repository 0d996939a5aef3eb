#pragma once
// `mlops inspect DIR`: reads an mmap queue's files as they are, read-only (pread through
// descriptors opened with O_NOFOLLOW, nothing mapped, nothing created, locked or repaired),
// so it is safe on a queue another process is writing and on a damaged one.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlops/result.h"

namespace mlops::tool {

/// One segment file and what its records are.
struct SegmentReport {
  std::uint64_t index = 0;
  std::uint64_t bytes_on_disk = 0;
  std::uint64_t published = 0;        ///< Complete records whose CRC matches.
  std::uint64_t published_bytes = 0;  ///< Their payload bytes.
  std::uint64_t skipped = 0;          ///< Padding and abandoned claims.
  std::uint64_t pending = 0;          ///< Claimed, not yet published (a writer at work, or dead).
  /// Damaged ranges: "[from, to): reason" (positions in the topic's log).
  std::vector<std::string> damage;
};

/// One topic: its control block, segments and groups.
struct TopicReport {
  std::string name;
  std::optional<std::string> problem;  ///< Why the topic could not be read at all.
  std::uint64_t segment_bytes = 0;
  std::uint64_t tail = 0;
  std::uint64_t first_segment = 0;
  std::uint64_t synced = 0;
  std::uint64_t bytes_on_disk = 0;
  std::vector<SegmentReport> segments;
  std::vector<std::pair<std::string, std::optional<std::uint64_t>>> groups;
};

/// The queue in `directory`, topic by topic (sorted).
/// @return the report; kNotFound / kUnavailable when the directory cannot be read.
Result<std::vector<TopicReport>> inspect_queue(const std::string& directory);

}  // namespace mlops::tool
