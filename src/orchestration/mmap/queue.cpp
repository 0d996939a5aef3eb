#include "orchestration/mmap/queue.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "orchestration/mmap/fork_guard.h"
#include "orchestration/mmap/group_cursor.h"

namespace mlops::orchestration::detail::mmap {

Result<std::shared_ptr<Queue>> Queue::open(const std::string& directory,
                                           const QueueSettings& settings) {
  if (directory.empty()) {
    return Error{ErrorCode::kInvalidArgument,
                 "mmap needs a directory, as in 'mmap:///var/lib/mlops'"};
  }
  auto root = Directory::open_root(directory, settings.modes);
  if (!root) return root.error();
  if (::faccessat(root->fd(), ".", R_OK | W_OK | X_OK, 0) != 0) {
    return errno_error("cannot read and write the queue directory", directory);
  }
  auto registry = ProcessRegistry::open(*root, settings.modes);
  if (!registry) return registry.error();
  auto queue = std::make_shared<Queue>();
  queue->root_ = std::move(*root);
  queue->settings_ = settings;
  queue->registry_ = std::move(*registry);
  return queue;
}

namespace {

Result<std::string> checked_topic_name(std::string_view name) {
  std::string topic_name(name);
  if (!valid_file_name(topic_name)) {
    return Error{ErrorCode::kInvalidArgument, "'" + topic_name + "' is not a valid topic name"};
  }
  return topic_name;
}

}  // namespace

Result<std::shared_ptr<TopicLog>> Queue::topic(std::string_view name) {
  const ForkGuard guard;
  std::lock_guard lock(mutex_);
  if (auto found = topics_.find(name); found != topics_.end()) return found->second;
  auto topic_name = checked_topic_name(name);
  if (!topic_name) return topic_name.error();
  auto log = TopicLog::open(root_, *topic_name, settings_.log, settings_.modes, registry_);
  if (!log) return log.error();
  topics_.emplace(std::move(*topic_name), *log);
  return *log;
}

Result<std::shared_ptr<TopicLog>> Queue::topic_to_read(std::string_view name) {
  const ForkGuard guard;
  std::lock_guard lock(mutex_);
  if (auto found = topics_.find(name); found != topics_.end()) return found->second;
  auto topic_name = checked_topic_name(name);
  if (!topic_name) return topic_name.error();
  // Not kept: a producer or consumer of this process later opens it for writing.
  return TopicLog::open_read_only(root_, *topic_name, settings_.log, settings_.modes, registry_);
}

Result<std::vector<std::string>> Queue::topic_names() const {
  DIR* dir = ::fdopendir(::dup(root_.fd()));
  if (dir == nullptr) return errno_error("cannot list", root_.path());
  ::rewinddir(dir);  // A dup shares the offset of an earlier listing.
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (!valid_file_name(name)) continue;
    struct stat info {};
    const std::string control = name + "/control";
    if (::fstatat(root_.fd(), control.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(info.st_mode)) {
      names.push_back(name);
    }
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace mlops::orchestration::detail::mmap
