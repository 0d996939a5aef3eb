#include "orchestration/mmap/file_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

namespace mlops::orchestration::mmap {

Error errno_error(const std::string& what, const std::string& path) {
  return Error{ErrorCode::kUnavailable, what + " '" + path + "': " + std::strerror(errno)};
}

Result<void> make_directories(const std::string& path) {
  std::string prefix;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string::npos ? path.size() : slash;
    prefix = path.substr(0, end);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return errno_error("cannot create directory", prefix);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return Error{ErrorCode::kUnavailable, "'" + path + "' is not a directory"};
  }
  return {};
}

Result<bool> create_file_atomically(const std::string& path, std::span<const std::uint8_t> header,
                                    std::uint64_t size) {
  if (::access(path.c_str(), F_OK) == 0) return false;
  static std::atomic<std::uint64_t> counter{0};
  const std::string temporary = path + ".tmp." + std::to_string(::getpid()) + "." +
                                std::to_string(counter.fetch_add(1));
  const int fd = ::open(temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("cannot create", temporary);
  auto fail = [&](const char* what) -> Result<bool> {
    auto error = errno_error(what, temporary);
    ::close(fd);
    ::unlink(temporary.c_str());
    return error;
  };
  // Allocated up front: a full disk shows up here, not as a SIGBUS in a writer later.
  if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); rc != 0) {
    errno = rc;
    return fail("cannot allocate");
  }
  if (::pwrite(fd, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
    return fail("cannot write header of");
  }
  ::close(fd);
  // link() fails if the name exists: exactly one creator wins, and the file appears whole.
  const bool created = ::link(temporary.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temporary.c_str());
  if (!created && link_errno != EEXIST) {
    errno = link_errno;
    return errno_error("cannot link into place", path);
  }
  return created;
}

Result<MappedFile> MappedFile::open(const std::string& path, std::uint64_t expected_size,
                                    bool populate) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    Error error = errno_error("cannot open", path);
    if (errno == ENOENT) error.code = ErrorCode::kNotFound;
    return error;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    auto error = errno_error("cannot stat", path);
    ::close(fd);
    return error;
  }
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if ((expected_size != 0 && size != expected_size) || size == 0) {
    ::close(fd);
    return Error{ErrorCode::kCorrupt, "'" + path + "' is " + std::to_string(size) +
                                          " bytes; expected " + std::to_string(expected_size)};
  }
  const int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, fd, 0);
  if (data == MAP_FAILED) {
    auto error = errno_error("cannot map", path);
    ::close(fd);
    return error;
  }
  return MappedFile(fd, static_cast<std::uint8_t*>(data), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
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

Result<void> MappedFile::sync(std::uint64_t offset, std::uint64_t length) const {
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t start = offset / page * page;
  const std::uint64_t end = std::min(size_, offset + length);
  if (end <= start) return {};
  if (::msync(data_ + start, end - start, MS_SYNC) != 0) {
    return Error{ErrorCode::kUnavailable, std::string("msync failed: ") + std::strerror(errno)};
  }
  return {};
}

}  // namespace mlops::orchestration::mmap
