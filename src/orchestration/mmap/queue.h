#pragma once
// One opened queue directory: its root, the registry of the processes using it, and the
// topics this process has opened.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/mmap_settings.h"
#include "orchestration/mmap/process_registry.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::detail::mmap {

/// Thread-safe; shared by the producers, consumers and admins of one Orchestration.
class Queue {
 public:
  /// Opens (creating if needed) the queue in `directory`.
  /// @return the queue; kInvalidArgument for an empty path; kUnavailable if it cannot be
  ///         made or is not safe to use (another user's, writable by everyone: the reason).
  static Result<std::shared_ptr<Queue>> open(const std::string& directory,
                                             const QueueSettings& settings);

  [[nodiscard]] const std::string& directory() const noexcept { return root_.path(); }
  [[nodiscard]] const QueueSettings& settings() const noexcept { return settings_; }

  /// The log of `topic`, created on first use.
  Result<std::shared_ptr<TopicLog>> topic(std::string_view name);

  /// The log of existing `topic` to look at (list, lag): the one this process has open, or
  /// one opened read-only, which creates, repairs and writes nothing.
  /// @return as TopicLog::open_read_only (kNotFound for no such topic).
  Result<std::shared_ptr<TopicLog>> topic_to_read(std::string_view name);

  /// Names of the topics in the directory, sorted.
  Result<std::vector<std::string>> topic_names() const;

 private:
  Directory root_;
  QueueSettings settings_;
  std::shared_ptr<ProcessRegistry> registry_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<TopicLog>, std::less<>> topics_;
};

}  // namespace mlops::orchestration::detail::mmap
