#pragma once
// A consumer group's file in one topic, under DIR/<topic>/groups/: the group's durable
// committed position (the watermark) and its claim table (layout.h's GroupTable). Every
// member of the group opens the file; changes to the table are made under a short flock
// of it, which the kernel drops when its holder dies. A forked child closes its copy of the
// descriptor at once, so it never shares its parent's lock.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/layout.h"

namespace mlops::orchestration::detail::mmap {

class GroupCursor {
 public:
  /// Opens (creating) the file of `group` in the topic's `groups` directory. Any number of
  /// members may have it open. With `durable` a new file's directory entry is synced too.
  /// @return the cursor; kUnavailable if the file cannot be made or is not a regular file
  ///         (a link is never followed); kInvalidArgument for a bad name.
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

  /// Takes the group's lock (flock, exclusive), trying until `deadline`: never waits on
  /// another process longer than that. A holder's death releases it.
  /// @return true when held; false at the deadline or on an error (logged).
  [[nodiscard]] bool lock_until(std::chrono::steady_clock::time_point deadline) noexcept;
  /// Releases the lock taken by lock_until.
  void unlock() noexcept;

  /// Reads the claim table (zeros where the file is shorter: a table never written).
  /// @return kOk, or kUnavailable when it cannot be read.
  Result<void> read_table(GroupTable& table) const;
  /// Writes the claim table whole (one pwrite of one page).
  /// @return kOk, or kUnavailable when it cannot be written (disk full, say).
  Result<void> write_table(const GroupTable& table);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Whether the open file was removed from the directory (deleted or replaced): the
  /// group lives on in the file now at path(), if any.
  [[nodiscard]] bool unlinked() const noexcept;

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

}  // namespace mlops::orchestration::detail::mmap
