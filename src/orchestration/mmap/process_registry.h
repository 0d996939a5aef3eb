#pragma once
// Who is alive among the processes using a queue. A claim carries its writer's id, and a
// reader meeting a claim that stays pending asks whether that writer still lives. Process
// ids cannot answer that across PID namespaces (containers sharing a volume see other pids,
// or all run as pid 1), so each process registers a random id as DIR/.procs/<id>, a file it
// holds a POSIX record lock on. The kernel drops the lock when the process dies, whatever
// namespace it ran in; such locks are not inherited across fork(), and a child registers
// an id of its own.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"

namespace mlops::orchestration::detail::mmap {

/// This process's id, cached (and refreshed in a forked child).
std::uint32_t current_pid() noexcept;

/// One queue directory's registry as seen from this process. Thread-safe.
class ProcessRegistry {
 public:
  /// The registry of the queue whose root is `root` (one per queue per process, shared).
  static Result<std::shared_ptr<ProcessRegistry>> open(const Directory& root,
                                                       const FileModes& modes);

  ProcessRegistry(const ProcessRegistry&) = delete;
  ProcessRegistry& operator=(const ProcessRegistry&) = delete;
  ~ProcessRegistry();

  /// This process's id in the queue, registering it on first use (and again in a forked
  /// child). kUnavailable when the registry cannot be written (disk full, permissions).
  Result<std::uint32_t> id();

  /// Whether writer `id` is alive: this process, or one holding its registry file's lock.
  /// A dead writer's file is removed on the way.
  [[nodiscard]] bool alive(std::uint32_t id);

 private:
  ProcessRegistry() = default;
  Result<std::uint32_t> register_this_process();

  Directory dir_;
  FileModes modes_;
  std::mutex mutex_;
  // pid << 32 | id of the registration this process holds; 0 before the first.
  std::atomic<std::uint64_t> registration_{0};
  int lock_fd_ = -1;
  std::string lock_name_;
};

}  // namespace mlops::orchestration::detail::mmap
