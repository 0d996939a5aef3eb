#include "orchestration/mmap/queue.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "orchestration/mmap/group_cursor.h"

namespace mlops::orchestration::mmap {
namespace {
constexpr std::uint64_t kNotifyFileBytes = 4096;
}  // namespace

Result<std::shared_ptr<Queue>> Queue::open(const std::string& directory,
                                           const QueueSettings& settings) {
  if (directory.empty()) {
    return Error{ErrorCode::kInvalidArgument, "mmap needs a directory, as in 'mmap:///var/lib/mlops'"};
  }
  if (auto made = make_directories(directory); !made) return made.error();
  if (::access(directory.c_str(), R_OK | W_OK | X_OK) != 0) {
    return errno_error("cannot read and write the queue directory", directory);
  }
  auto queue = std::make_shared<Queue>();
  queue->directory_ = directory;
  queue->settings_ = settings;
  const std::string notify_path = directory + "/.notify";
  if (auto created = create_file_atomically(notify_path, {}, kNotifyFileBytes); !created) {
    return created.error();
  }
  auto notify = MappedFile::open(notify_path, kNotifyFileBytes, false);
  if (!notify) return notify.error();
  auto mapping = std::make_shared<MappedFile>(std::move(*notify));
  queue->notify_ = std::shared_ptr<NotifyBlock>(mapping, reinterpret_cast<NotifyBlock*>(mapping->data()));
  return queue;
}

Result<std::shared_ptr<TopicLog>> Queue::topic(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto found = topics_.find(name); found != topics_.end()) return found->second;
  const std::string topic_name(name);
  if (!valid_file_name(topic_name)) {
    return Error{ErrorCode::kInvalidArgument, "'" + topic_name + "' is not a valid topic name"};
  }
  auto log = TopicLog::open(directory_, topic_name, settings_.log, notify_);
  if (!log) return log.error();
  topics_.emplace(topic_name, *log);
  return *log;
}

Result<std::vector<std::string>> Queue::topic_names() const {
  DIR* dir = ::opendir(directory_.c_str());
  if (dir == nullptr) return errno_error("cannot list", directory_);
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (!valid_file_name(name)) continue;
    struct stat info {};
    if (::stat((directory_ + "/" + name + "/control").c_str(), &info) == 0) names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace mlops::orchestration::mmap
