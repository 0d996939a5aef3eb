#include "orchestration/mmap/file_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace mlops::orchestration::detail::mmap {
namespace {

std::atomic<testing::SyncObserver> g_sync_observer{nullptr};

// The rule for every directory of a queue: only its owner (or root) may add entries, so
// nobody else can plant a file or a link in it; a group-shared queue trusts its group.
Result<void> check_directory(int fd, const std::string& path, const FileModes& modes) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return errno_error("cannot stat", path);
  if (!S_ISDIR(info.st_mode)) {
    return Error{ErrorCode::kUnavailable, "'" + path + "' is not a directory"};
  }
  if ((info.st_mode & S_IWOTH) != 0) {
    return Error{ErrorCode::kUnavailable,
                 "'" + path + "' is writable by every user; refusing to keep a queue there"};
  }
  const uid_t me = ::geteuid();
  const bool owner_trusted = info.st_uid == me || info.st_uid == 0;
  if (!owner_trusted && !modes.group_shared()) {
    return Error{ErrorCode::kUnavailable,
                 "'" + path + "' belongs to uid " + std::to_string(info.st_uid) +
                     ", not to this user (uid " + std::to_string(me) +
                     "); refusing to use it (?mode=0660 shares a queue within a group)"};
  }
  return {};
}

bool proc_fd_links_work() {
  static const bool works = ::access("/proc/self/fd", F_OK) == 0;
  return works;
}

std::string random_suffix() {
  std::uint64_t bits = 0;
  if (::getrandom(&bits, sizeof bits, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bits)) {
    static std::atomic<std::uint64_t> counter{0};
    bits = (static_cast<std::uint64_t>(::getpid()) << 32) ^ counter.fetch_add(1);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}

}  // namespace

Error errno_error(const std::string& what, const std::string& path) {
  return Error{ErrorCode::kUnavailable, what + " '" + path + "': " + std::strerror(errno)};
}

void testing::set_sync_observer(SyncObserver observer) noexcept {
  g_sync_observer.store(observer, std::memory_order_release);
}

void observe_sync(const std::string& path, int fd, std::uint64_t offset,
                  std::uint64_t length) noexcept {
  if (auto* observer = g_sync_observer.load(std::memory_order_acquire)) {
    observer(path, fd, offset, length);
  }
}

Result<Directory> Directory::open_root(const std::string& path, const FileModes& modes) {
  if (path.empty()) return Error{ErrorCode::kInvalidArgument, "the queue directory is empty"};
  // mkdir -p; the components may be links (only the queue's insides are protected).
  for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), modes.directory) != 0 && errno != EEXIST) {
      return errno_error("cannot create directory", prefix);
    }
    if (slash == std::string::npos) break;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open directory", path);
  Directory dir(fd, path);
  if (auto checked = check_directory(fd, path, modes); !checked) return checked.error();
  return dir;
}

Directory::Directory(Directory&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

Directory& Directory::operator=(Directory&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

Directory::~Directory() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Directory> Directory::subdirectory(const std::string& name, const FileModes& modes) const {
  const std::string path = path_of(name);
  const bool created = ::mkdirat(fd_, name.c_str(), modes.directory) == 0;
  if (!created && errno != EEXIST) return errno_error("cannot create directory", path);
  const int fd = ::openat(fd_, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return Error{ErrorCode::kUnavailable,
                   "'" + path + "' is a link or not a directory; refusing to follow it"};
    }
    return errno_error("cannot open directory", path);
  }
  Directory dir(fd, path);
  // mkdir's mode passes through the umask; a group-shared queue needs exactly its mode.
  if (created) (void)::fchmod(fd, modes.directory);
  if (auto checked = check_directory(fd, path, modes); !checked) return checked.error();
  return dir;
}

Result<void> Directory::sync() const {
  if (::fsync(fd_) != 0) return errno_error("cannot sync directory", path_);
  observe_sync(path_, fd_, 0, 0);
  return {};
}

bool is_temporary_name(const std::string& name) noexcept {
  return name.starts_with(".") && name.find(".tmp.") != std::string::npos;
}

Result<bool> create_file_atomically(const Directory& dir, const std::string& name,
                                    std::span<const std::uint8_t> header, std::uint64_t size,
                                    mode_t mode, std::uint64_t allocate) {
  const std::string path = dir.path_of(name);
  if (::faccessat(dir.fd(), name.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0) return false;
  // An unnamed file leaves nothing behind if this process dies before linking it.
  std::string temporary;
  int fd =
      proc_fd_links_work() ? ::openat(dir.fd(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode) : -1;
  if (fd < 0) {
    temporary = "." + name + ".tmp." + random_suffix();
    fd = ::openat(dir.fd(), temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
    if (fd < 0) return errno_error("cannot create", dir.path_of(temporary));
  }
  auto fail = [&](const char* what) -> Result<bool> {
    auto error = errno_error(what, path);
    ::close(fd);
    if (!temporary.empty()) ::unlinkat(dir.fd(), temporary.c_str(), 0);
    return error;
  };
  (void)::fchmod(fd, mode);  // Exactly `mode`, whatever the umask.
  // What is allocated up front shows a full disk here, not as a SIGBUS in a writer later;
  // the rest is allocated by the writers as they reach it. A filesystem without fallocate
  // gets all of it now, while nobody else has the file: glibc's emulation writes into the
  // file, which is safe only then, and later a writer may have no safe way to get blocks.
  std::uint64_t upfront = std::min(size, allocate);
  if (upfront > 0 && ::fallocate(fd, 0, 0, static_cast<off_t>(upfront)) != 0) {
    if (errno != EOPNOTSUPP && errno != ENOSYS) return fail("cannot allocate");
    upfront = size;
    if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); rc != 0) {
      errno = rc;
      return fail("cannot allocate");
    }
  }
  if (upfront < size && ::ftruncate(fd, static_cast<off_t>(size)) != 0) return fail("cannot size");
  if (!header.empty() &&
      ::pwrite(fd, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
    return fail("cannot write header of");
  }
  // On disk before its name is: after a power loss the name never shows a half-made file.
  if (::fsync(fd) != 0) return fail("cannot sync");
  int rc = 0;
  if (temporary.empty()) {
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    rc = ::linkat(AT_FDCWD, self.c_str(), dir.fd(), name.c_str(), AT_SYMLINK_FOLLOW);
  } else {
    rc = ::linkat(dir.fd(), temporary.c_str(), dir.fd(), name.c_str(), 0);
  }
  // link() fails if the name exists: exactly one creator wins, and the file appears whole.
  const int link_errno = errno;
  if (!temporary.empty()) ::unlinkat(dir.fd(), temporary.c_str(), 0);
  if (rc == 0) observe_sync(path, fd, 0, 0);  // The synced file is the one under the name.
  ::close(fd);
  if (rc != 0 && link_errno != EEXIST) {
    errno = link_errno;
    return errno_error("cannot link into place", path);
  }
  return rc == 0;
}

Result<MappedFile> MappedFile::open(const Directory& dir, const std::string& name,
                                    std::uint64_t expected_size, Access access, bool allow_short) {
  const std::string path = dir.path_of(name);
  const bool writable = access == Access::kReadWrite;
  // O_NONBLOCK: a FIFO planted under the name must not block the open.
  const int fd = ::openat(dir.fd(), name.c_str(),
                          (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    Error error = errno_error("cannot open", path);
    if (errno == ENOENT) error.code = ErrorCode::kNotFound;
    if (errno == ELOOP)
      error = Error{ErrorCode::kCorrupt, "'" + path + "' is a symbolic link; not followed"};
    // A directory, socket or device under a file's name is damage, like a wrong size.
    if (errno == EISDIR || errno == ENXIO || errno == ENODEV || errno == ETXTBSY)
      error.code = ErrorCode::kCorrupt;
    return error;
  }
  MappedFile file;
  file.fd_ = fd;
  file.path_ = path;
  file.writable_ = writable;
  struct stat info {};
  if (::fstat(fd, &info) != 0) return errno_error("cannot stat", path);
  if (!S_ISREG(info.st_mode)) {
    return Error{ErrorCode::kCorrupt, "'" + path + "' is not a regular file"};
  }
  const auto size = static_cast<std::uint64_t>(info.st_size);
  const bool short_allowed = allow_short && !writable && expected_size != 0 && size < expected_size;
  if ((expected_size != 0 && size != expected_size && !short_allowed) || size == 0) {
    return Error{ErrorCode::kCorrupt, "'" + path + "' is " + std::to_string(size) +
                                          " bytes; expected " + std::to_string(expected_size)};
  }
  if (short_allowed) {
    // Zeros first, then the file's pages over their start: touching past the file's last
    // page reads the anonymous zeros instead of raising SIGBUS.
    void* zeros = ::mmap(nullptr, expected_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (zeros == MAP_FAILED) return errno_error("cannot map", path);
    file.data_ = static_cast<std::uint8_t*>(zeros);
    file.size_ = expected_size;
    file.file_size_ = size;
    if (::mmap(zeros, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
      return errno_error("cannot map", path);  // file's destructor unmaps the zeros
    }
    return file;
  }
  void* data =
      ::mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) return errno_error("cannot map", path);
  file.data_ = static_cast<std::uint8_t*>(data);
  file.size_ = size;
  file.file_size_ = size;
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      file_size_(std::exchange(other.file_size_, 0)),
      writable_(other.writable_),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    file_size_ = std::exchange(other.file_size_, 0);
    writable_ = other.writable_;
    path_ = std::move(other.path_);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  fd_ = -1;
}

Result<void> MappedFile::allocate(std::uint64_t offset, std::uint64_t length) const {
  if (length == 0 || offset >= size_) return {};
  length = std::min(length, size_ - offset);
  // fallocate, not posix_fallocate: glibc's emulation writes zero bytes into the file, over
  // whatever another writer has just put there through its mapping.
  if (::fallocate(fd_, 0, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0) {
    return {};
  }
  if (errno != EOPNOTSUPP && errno != ENOSYS) {
    return errno_error("cannot allocate the blocks of", path_);
  }
  return allocate_by_faulting(offset, length);
}

Result<void> MappedFile::allocate_by_faulting(std::uint64_t offset, std::uint64_t length) const {
  // A filesystem without fallocate (ext3, ext2) allocates a page's blocks at its first write
  // fault. Taking those faults here turns a full disk into EFAULT instead of a SIGBUS in the
  // writer; the faults change no byte, so records other writers fill there are safe.
  const std::uint64_t page = page_bytes();
  const std::uint64_t start = offset / page * page;
  const std::uint64_t end = std::min(size_, offset + length);
  if (!writable_) {
    return Error{ErrorCode::kUnavailable,
                 "cannot allocate the blocks of '" + path_ + "': it is mapped read-only"};
  }
  // EINTR and EAGAIN leave part of the range done; a few more tries finish it.
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (::madvise(data_ + start, end - start, MADV_POPULATE_WRITE) == 0) return {};
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == EFAULT) {
      return Error{ErrorCode::kUnavailable,
                   "cannot allocate the blocks of '" + path_ +
                       "': No space left on device (or an I/O error): its filesystem has no "
                       "fallocate, and writing a page of it failed"};
    }
    if (errno == EINVAL) return allocated_without_populate(start, end);
    return errno_error("cannot allocate the blocks of", path_);
  }
  return errno_error("cannot allocate the blocks of", path_);
}

Result<void> MappedFile::allocated_without_populate(std::uint64_t start, std::uint64_t end) const {
  // A kernel before 5.14 cannot take the faults ahead. A range without holes has its blocks
  // (a segment is made whole when created on such a filesystem); one with holes is refused.
  if (const off_t hole = ::lseek(fd_, static_cast<off_t>(start), SEEK_HOLE);
      hole >= 0 && static_cast<std::uint64_t>(hole) >= end) {
    return {};
  }
  return Error{ErrorCode::kUnavailable,
               "cannot allocate the blocks of '" + path_ +
                   "': the file has holes (copied sparse?), its filesystem has no fallocate, and "
                   "this kernel (before 5.14) cannot take the page faults ahead of the writer, so "
                   "a full disk would kill it (SIGBUS); copy the queue without --sparse, or keep "
                   "it on ext4, xfs, btrfs or tmpfs"};
}

std::uint64_t page_bytes() noexcept {
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

Result<void> MappedFile::sync(std::uint64_t offset, std::uint64_t length) const {
  const std::uint64_t page = page_bytes();
  const std::uint64_t start = offset / page * page;
  const std::uint64_t end = std::min(size_, offset + length);
  if (end <= start) return {};
  if (::msync(data_ + start, end - start, MS_SYNC) != 0) {
    return errno_error("cannot write to disk (msync)", path_);
  }
  observe_sync(path_, fd_, start, end - start);
  return {};
}

}  // namespace mlops::orchestration::detail::mmap
