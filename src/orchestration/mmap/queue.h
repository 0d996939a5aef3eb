#pragma once
// One opened queue directory: the wake-up word and the topics this process has opened.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/mmap_settings.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::mmap {

/// Thread-safe; shared by the producers, consumers and admins of one Orchestration.
class Queue {
 public:
  /// Opens (creating if needed) the queue in `directory`.
  static Result<std::shared_ptr<Queue>> open(const std::string& directory,
                                             const QueueSettings& settings);

  [[nodiscard]] const std::string& directory() const noexcept { return directory_; }
  [[nodiscard]] const QueueSettings& settings() const noexcept { return settings_; }
  [[nodiscard]] NotifyBlock& notify() const noexcept { return *notify_; }

  /// The log of `topic`, created on first use.
  Result<std::shared_ptr<TopicLog>> topic(std::string_view name);

  /// Names of the topics in the directory, sorted.
  Result<std::vector<std::string>> topic_names() const;

 private:
  std::string directory_;
  QueueSettings settings_;
  // Points into the mapping of DIR/.notify, which it keeps alive (topic logs share it).
  std::shared_ptr<NotifyBlock> notify_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<TopicLog>, std::less<>> topics_;
};

}  // namespace mlops::orchestration::mmap
