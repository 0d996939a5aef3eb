#include "orchestration/mmap/group_cursor.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "mlops/log.h"
#include "mlops/orchestration/topic_list.h"
#include "orchestration/mmap/crc32c.h"
#include "orchestration/mmap/file_util.h"

namespace mlops::orchestration::mmap {
namespace {

constexpr char kCursorMagic[8] = {'M', 'L', 'O', 'P', 'C', 'U', 'R', '1'};
constexpr char kCursorSuffix[] = ".cursor";

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
  if (got != static_cast<ssize_t>(sizeof record) ||
      std::memcmp(record.magic, kCursorMagic, sizeof record.magic) != 0 ||
      record.crc != cursor_crc(record)) {
    log(LogLevel::kWarning, "mmap queue: cursor '" + path +
                                "' is damaged; the group restarts from its offset_reset");
    return std::nullopt;
  }
  return record.position;
}

}  // namespace

bool valid_file_name(const std::string& name) noexcept {
  // The topic-name rule, and not a name the directory itself has.
  return is_valid_topic_name(name) && name != "." && name != "..";
}

Result<GroupCursor> GroupCursor::open(const std::string& topic_dir, const std::string& group) {
  if (!valid_file_name(group)) {
    return Error{ErrorCode::kInvalidArgument,
                 "group name '" + group + "' must match [A-Za-z0-9._-]{1,249}"};
  }
  const std::string path = topic_dir + "/groups/" + group + kCursorSuffix;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("cannot open cursor", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Error{ErrorCode::kUnavailable, "consumer group '" + group +
                                                "' is in use by another consumer of '" +
                                                topic_dir + "' (one active consumer per group)"};
    }
    errno = error;
    return errno_error("cannot lock cursor", path);
  }
  return GroupCursor(fd, path);
}

GroupCursor::GroupCursor(GroupCursor&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

GroupCursor& GroupCursor::operator=(GroupCursor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

GroupCursor::~GroupCursor() {
  if (fd_ >= 0) ::close(fd_);  // Also drops the flock.
}

std::optional<std::uint64_t> GroupCursor::committed() const { return read_cursor(fd_, path_); }

Result<void> GroupCursor::commit(std::uint64_t position, bool durable) {
  CursorRecord record{};
  std::memcpy(record.magic, kCursorMagic, sizeof record.magic);
  record.position = position;
  record.crc = cursor_crc(record);
  if (::pwrite(fd_, &record, sizeof record, 0) != static_cast<ssize_t>(sizeof record)) {
    return errno_error("cannot write cursor", path_);
  }
  if (durable && ::fdatasync(fd_) != 0) return errno_error("cannot sync cursor", path_);
  return {};
}

std::optional<std::uint64_t> lowest_committed(const std::string& topic_dir) {
  const std::string groups = topic_dir + "/groups";
  DIR* dir = ::opendir(groups.c_str());
  if (dir == nullptr) return std::nullopt;
  std::optional<std::uint64_t> lowest;
  bool any_group = false;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (!name.ends_with(kCursorSuffix)) continue;
    any_group = true;
    const std::string path = groups + "/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // A group that has not committed yet needs everything: it pins the floor at 0.
    const auto position = read_cursor(fd, path).value_or(0);
    ::close(fd);
    lowest = lowest ? std::min(*lowest, position) : position;
  }
  ::closedir(dir);
  return any_group ? lowest : std::nullopt;
}

}  // namespace mlops::orchestration::mmap
