#include "orchestration/mmap/group_cursor.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <set>
#include <thread>
#include <utility>

#include "mlops/log.h"
#include "mlops/orchestration/topic_list.h"
#include "orchestration/mmap/crc32c.h"
#include "orchestration/mmap/fork_guard.h"
#include "orchestration/mmap/process_registry.h"

namespace mlops::orchestration::detail::mmap {
namespace {

constexpr char kCursorMagic[8] = {'M', 'L', 'O', 'P', 'C', 'U', 'R', '1'};

// Written whole with one pwrite; the CRC tells a torn or damaged one from a good one.
struct CursorRecord {
  char magic[8];
  std::uint64_t position;
  std::uint32_t crc;
  std::uint32_t reserved;
};

std::uint32_t cursor_crc(const CursorRecord& record) {
  return crc32c(&record, offsetof(CursorRecord, crc));
}

std::optional<std::uint64_t> read_cursor(int fd, const std::string& path) {
  CursorRecord record{};
  const auto got = ::pread(fd, &record, sizeof record, 0);
  if (got == 0) return std::nullopt;  // A group that never committed.
  static constexpr CursorRecord kNever{};
  // Zeros: the claim table was written before the first commit reached the disk.
  if (got == static_cast<ssize_t>(sizeof record) &&
      std::memcmp(&record, &kNever, sizeof record) == 0) {
    return std::nullopt;
  }
  if (got != static_cast<ssize_t>(sizeof record) ||
      std::memcmp(record.magic, kCursorMagic, sizeof record.magic) != 0 ||
      record.crc != cursor_crc(record)) {
    log(LogLevel::kWarning,
        "mmap queue: cursor '" + path + "' is damaged; the group restarts from its offset_reset");
    return std::nullopt;
  }
  return record.position;
}

// Every open cursor of this process. A forked child closes its copies of their descriptors
// at once: a flock belongs to the open file, so a child that kept one would hold its
// parent's group, even after the parent let go. (Changed only under the fork guard, so the
// mutex is never held across fork().)
std::mutex g_cursors_mutex;
std::set<int*>* g_cursor_fds = nullptr;

void close_cursors_in_child() noexcept {
  if (g_cursor_fds == nullptr) return;
  for (int* fd : *g_cursor_fds) {
    ::close(*fd);
    *fd = -1;
  }
}

void track(int* fd) {
  const ForkGuard guard;
  const std::lock_guard lock(g_cursors_mutex);
  if (g_cursor_fds == nullptr) {
    g_cursor_fds = new std::set<int*>();  // Leaked: cursors may outlive static destruction.
    ::pthread_atfork(nullptr, nullptr, &close_cursors_in_child);
  }
  g_cursor_fds->insert(fd);
}

void untrack(int* fd) noexcept {
  const ForkGuard guard;
  const std::lock_guard lock(g_cursors_mutex);
  if (g_cursor_fds != nullptr) g_cursor_fds->erase(fd);
}

}  // namespace

bool valid_file_name(const std::string& name) noexcept {
  return is_valid_topic_name(name) && !name.starts_with(".");
}

GroupCursor::GroupCursor(int fd, std::string path)
    : fd_(fd), path_(std::move(path)), owner_pid_(current_pid()) {
  track(&fd_);
}

Result<GroupCursor> GroupCursor::open(const Directory& groups, const std::string& group,
                                      const FileModes& modes, bool durable) {
  if (!valid_file_name(group)) {
    return Error{
        ErrorCode::kInvalidArgument,
        "group name '" + group + "' must match [A-Za-z0-9._-]{1,249} and not start with '.'"};
  }
  const std::string path = groups.path_of(group);
  const bool existed = ::faccessat(groups.fd(), group.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  const int fd = ::openat(groups.fd(), group.c_str(),
                          O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, modes.file);
  if (fd < 0) {
    if (errno == ELOOP) {
      return Error{ErrorCode::kUnavailable,
                   "cursor '" + path + "' is a symbolic link; not followed"};
    }
    return errno_error("cannot open cursor", path);
  }
  GroupCursor cursor(fd, path);
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    return Error{ErrorCode::kUnavailable, "cursor '" + path + "' is not a regular file"};
  }
  if (!existed) {
    (void)::fchmod(fd, modes.file);
    if (durable) {
      if (auto synced = groups.sync(); !synced) return synced.error();
    }
  }
  return cursor;
}

GroupCursor::GroupCursor(GroupCursor&& other)
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      owner_pid_(other.owner_pid_) {
  track(&fd_);
}

GroupCursor& GroupCursor::operator=(GroupCursor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    owner_pid_ = other.owner_pid_;
  }
  return *this;
}

GroupCursor::~GroupCursor() {
  untrack(&fd_);
  if (fd_ >= 0) ::close(fd_);  // Also drops a flock still held.
}

bool GroupCursor::lock_until(std::chrono::steady_clock::time_point deadline) noexcept {
  // The lock is held for microseconds (one table update): spin briefly, then back off in
  // short sleeps so a holder that was descheduled gets the core.
  auto pause = std::chrono::microseconds(20);
  for (int attempt = 0;; ++attempt) {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      log(LogLevel::kError,
          "mmap queue: cannot lock group '" + path_ + "': " + std::strerror(errno));
      return false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (attempt < 16) {
      ::sched_yield();
      continue;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

void GroupCursor::unlock() noexcept { (void)::flock(fd_, LOCK_UN); }

Result<void> GroupCursor::read_table(GroupTable& table) const {
  std::memset(&table, 0, sizeof table);
  const auto got = ::pread(fd_, &table, sizeof table, kGroupTableOffset);
  if (got < 0) return errno_error("cannot read group table", path_);
  return {};
}

Result<void> GroupCursor::write_table(const GroupTable& table) {
  if (owner_pid_ != current_pid()) {
    return Error{ErrorCode::kUnavailable, "group '" + path_ + "' was opened by another process"};
  }
  alignas(GroupTable) std::uint8_t page[4096]{};
  std::memcpy(page, &table, sizeof table);
  errno = 0;
  if (::pwrite(fd_, page, sizeof page, kGroupTableOffset) != static_cast<ssize_t>(sizeof page)) {
    if (errno == 0) errno = ENOSPC;
    return errno_error("cannot write group table", path_);
  }
  return {};
}

std::optional<std::uint64_t> GroupCursor::committed() const { return read_cursor(fd_, path_); }

bool GroupCursor::unlinked() const noexcept {
  struct stat info {};
  return fd_ >= 0 && ::fstat(fd_, &info) == 0 && info.st_nlink == 0;
}

Result<void> GroupCursor::commit(std::uint64_t position, bool durable) {
  if (owner_pid_ != current_pid()) {
    return Error{ErrorCode::kUnavailable,
                 "cursor '" + path_ +
                     "' belongs to the process that opened it, not to this forked "
                     "child: open a new consumer in the child"};
  }
  CursorRecord record{};
  std::memcpy(record.magic, kCursorMagic, sizeof record.magic);
  record.position = position;
  record.crc = cursor_crc(record);
  if (::pwrite(fd_, &record, sizeof record, 0) != static_cast<ssize_t>(sizeof record)) {
    return errno_error("cannot write cursor", path_);
  }
  if (durable) {
    if (::fdatasync(fd_) != 0) return errno_error("cannot sync cursor", path_);
    observe_sync(path_, fd_, 0, 0);
  }
  return {};
}

std::optional<std::uint64_t> lowest_committed(const Directory& groups) {
  DIR* dir = ::fdopendir(::dup(groups.fd()));
  if (dir == nullptr) return std::nullopt;
  ::rewinddir(dir);  // A dup shares the offset of an earlier listing.
  std::optional<std::uint64_t> lowest;
  bool any_group = false;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (!valid_file_name(name)) continue;
    const int fd =
        ::openat(groups.fd(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    any_group = true;
    // A group that has not committed yet needs everything: it pins the floor at 0.
    const auto position = read_cursor(fd, groups.path_of(name)).value_or(0);
    ::close(fd);
    lowest = lowest ? std::min(*lowest, position) : position;
  }
  ::closedir(dir);
  return any_group ? lowest : std::nullopt;
}

std::vector<std::pair<std::string, std::optional<std::uint64_t>>> committed_positions(
    const Directory& groups) {
  std::vector<std::pair<std::string, std::optional<std::uint64_t>>> positions;
  DIR* dir = ::fdopendir(::dup(groups.fd()));
  if (dir == nullptr) return positions;
  ::rewinddir(dir);  // A dup shares the offset of an earlier listing.
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (!valid_file_name(name)) continue;
    const int fd =
        ::openat(groups.fd(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    positions.emplace_back(name, read_cursor(fd, groups.path_of(name)));
    ::close(fd);
  }
  ::closedir(dir);
  std::sort(positions.begin(), positions.end());
  return positions;
}

}  // namespace mlops::orchestration::detail::mmap
