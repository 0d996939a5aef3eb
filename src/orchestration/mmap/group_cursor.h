#pragma once
// A consumer group's durable position in one topic: a small file under DIR/<topic>/groups/,
// held with flock by the one consumer of the group that is active. The kernel drops the
// lock when that process dies, so a crashed owner never blocks the group; a forked child
// closes its copy at once, so it never holds its parent's group.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"

namespace mlops::orchestration::mmap {

class GroupCursor {
 public:
  /// Opens and locks the cursor of `group` in the topic's `groups` directory. With `durable`
  /// a new cursor file's directory entry is synced too.
  /// @return the cursor; kUnavailable if another consumer holds the group (or the file
  ///         cannot be made); kInvalidArgument for a bad name.
  static Result<GroupCursor> open(const Directory& groups, const std::string& group,
                                  const FileModes& modes, bool durable);

  GroupCursor(GroupCursor&& other);
  GroupCursor& operator=(GroupCursor&& other) noexcept;
  GroupCursor(const GroupCursor&) = delete;
  GroupCursor& operator=(const GroupCursor&) = delete;
  ~GroupCursor();

  /// The committed position, or nullopt for a new group (or an unreadable cursor file,
  /// which is logged: the group then starts as configured, so nothing is skipped).
  [[nodiscard]] std::optional<std::uint64_t> committed() const;

  /// Stores `position`. It survives a crash of any process at once; with `durable` it is
  /// also on disk (fdatasync) when this returns.
  /// @return kUnavailable if it cannot be written, or when called in a process forked
  ///         from the one that opened it (the lock is that process's, not the child's).
  Result<void> commit(std::uint64_t position, bool durable);

 private:
  GroupCursor(int fd, std::string path);
  int fd_ = -1;
  std::string path_;
  std::uint32_t owner_pid_ = 0;
};

/// The lowest committed position of every group in a topic's `groups` directory, or
/// nullopt when it has no groups (then nothing counts as consumed).
std::optional<std::uint64_t> lowest_committed(const Directory& groups);

/// Every group in a topic's `groups` directory with its committed position (nullopt: never
/// committed, or an unreadable cursor), sorted by name. Reads without locking, so it works
/// while the groups' consumers run; it never joins or moves a group.
std::vector<std::pair<std::string, std::optional<std::uint64_t>>> committed_positions(
    const Directory& groups);

/// Whether `name` can be a group (or topic) name in the queue directory: a valid topic name
/// (is_valid_topic_name) that does not start with '.' (those names are the queue's own).
bool valid_file_name(const std::string& name) noexcept;

}  // namespace mlops::orchestration::mmap
