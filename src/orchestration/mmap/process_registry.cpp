#include "orchestration/mmap/process_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <utility>

#include "orchestration/mmap/fork_guard.h"
#include "orchestration/mmap/layout.h"

namespace mlops::orchestration::detail::mmap {
namespace {

std::atomic<std::uint32_t> g_pid{0};

void refresh_pid() noexcept { g_pid.store(static_cast<std::uint32_t>(::getpid())); }

// One registry per queue directory per process: two ids in one process would each look
// dead to the other (a process's own record locks never conflict with each other).
std::mutex g_registries_mutex;
std::map<std::pair<dev_t, ino_t>, std::weak_ptr<ProcessRegistry>> g_registries;

bool locked_by_someone(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  // F_GETLK answers for other processes only: this one's own locks never conflict.
  if (::fcntl(fd, F_GETLK, &lock) != 0) return true;  // Unknown: assume alive.
  return lock.l_type != F_UNLCK;
}

std::uint32_t random_id() {
  std::uint32_t bits = 0;
  if (::getrandom(&bits, sizeof bits, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bits)) {
    static std::atomic<std::uint32_t> counter{0};
    bits = static_cast<std::uint32_t>(::getpid()) * 2654435761U + counter.fetch_add(1);
  }
  return bits % (kRepairWriter - 1) + 1;  // 1 .. kRepairWriter - 1
}

}  // namespace

std::uint32_t current_pid() noexcept {
  // getpid() is a system call; fork() is told to refresh the cached one.
  static const bool registered = [] {
    refresh_pid();
    ::pthread_atfork(nullptr, nullptr, &refresh_pid);
    return true;
  }();
  (void)registered;
  return g_pid.load(std::memory_order_relaxed);
}

Result<std::shared_ptr<ProcessRegistry>> ProcessRegistry::open(const Directory& root,
                                                               const FileModes& modes) {
  auto dir = root.subdirectory(".procs", modes);
  if (!dir) return dir.error();
  struct stat info {};
  if (::fstat(dir->fd(), &info) != 0) return errno_error("cannot stat", dir->path());
  const ForkGuard guard;
  const std::lock_guard lock(g_registries_mutex);
  std::erase_if(g_registries, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = g_registries[{info.st_dev, info.st_ino}];
  if (auto existing = slot.lock()) return existing;
  std::shared_ptr<ProcessRegistry> registry(new ProcessRegistry());
  registry->dir_ = std::move(*dir);
  registry->modes_ = modes;
  slot = registry;
  return registry;
}

ProcessRegistry::~ProcessRegistry() {
  if (lock_fd_ < 0) return;
  // Only the process that registered removes the name; a forked child just lets go.
  if ((registration_.load() >> 32) == current_pid()) ::unlinkat(dir_.fd(), lock_name_.c_str(), 0);
  ::close(lock_fd_);
}

Result<std::uint32_t> ProcessRegistry::id() {
  const std::uint64_t packed = registration_.load(std::memory_order_acquire);
  if (packed != 0 && (packed >> 32) == current_pid()) return static_cast<std::uint32_t>(packed);
  const ForkGuard guard;
  const std::lock_guard lock(mutex_);
  const std::uint64_t again = registration_.load(std::memory_order_acquire);
  if (again != 0 && (again >> 32) == current_pid()) return static_cast<std::uint32_t>(again);
  return register_this_process();
}

Result<std::uint32_t> ProcessRegistry::register_this_process() {
  if (lock_fd_ >= 0) {
    // Inherited across fork: the lock stayed with the parent, whose file this is.
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  // Files of dead processes (and temporary names a killed registration left) go first.
  if (DIR* listing = ::fdopendir(::dup(dir_.fd()))) {
    ::rewinddir(listing);  // A dup shares the offset of an earlier listing.
    while (const dirent* entry = ::readdir(listing)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      const int fd =
          ::openat(dir_.fd(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) continue;
      if (!locked_by_someone(fd)) ::unlinkat(dir_.fd(), name.c_str(), 0);
      ::close(fd);
    }
    ::closedir(listing);
  }
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::uint32_t id = random_id();
    const std::string name = std::to_string(id);
    const std::string temporary = ".tmp." + name + "." + std::to_string(current_pid());
    const int fd = ::openat(dir_.fd(), temporary.c_str(),
                            O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, modes_.file);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return errno_error("cannot register in", dir_.path());
    }
    // Locked before it has its name, so a name is never seen unlocked while its owner lives.
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &lock) != 0) {
      auto error = errno_error("cannot lock", dir_.path_of(temporary));
      ::unlinkat(dir_.fd(), temporary.c_str(), 0);
      ::close(fd);
      return error;
    }
    const bool linked = ::linkat(dir_.fd(), temporary.c_str(), dir_.fd(), name.c_str(), 0) == 0;
    const int link_errno = errno;
    ::unlinkat(dir_.fd(), temporary.c_str(), 0);
    if (!linked) {
      ::close(fd);
      if (link_errno == EEXIST || link_errno == ENOENT) continue;  // Taken, or swept: again.
      errno = link_errno;
      return errno_error("cannot register in", dir_.path());
    }
    lock_fd_ = fd;
    lock_name_ = name;
    registration_.store(std::uint64_t{current_pid()} << 32 | id, std::memory_order_release);
    return id;
  }
  return Error{ErrorCode::kUnavailable, "cannot find a free writer id in '" + dir_.path() + "'"};
}

bool ProcessRegistry::alive(std::uint32_t id) {
  const std::uint64_t packed = registration_.load(std::memory_order_acquire);
  if (packed != 0 && (packed >> 32) == current_pid() && static_cast<std::uint32_t>(packed) == id) {
    return true;
  }
  const std::string name = std::to_string(id);
  const int fd = ::openat(dir_.fd(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return errno != ENOENT;
  const bool locked = locked_by_someone(fd);
  ::close(fd);
  // Unlocked means dead for good: a name is never reused while its file exists.
  if (!locked) ::unlinkat(dir_.fd(), name.c_str(), 0);
  return locked;
}

}  // namespace mlops::orchestration::detail::mmap
