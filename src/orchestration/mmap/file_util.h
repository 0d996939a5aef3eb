#pragma once
// Small POSIX file helpers for the mmap queue. Everything inside a queue is opened relative
// to a directory descriptor and never through a symbolic link (O_NOFOLLOW), so a link
// planted in a queue directory cannot redirect a write; errors become Error values with
// errno's text.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "mlops/result.h"

namespace mlops::orchestration::detail::mmap {

/// An Error naming `what` failed on `path`, with errno's text.
Error errno_error(const std::string& what, const std::string& path);

/// The system's page size in bytes (read once).
std::uint64_t page_bytes() noexcept;

/// The permissions the queue creates things with: owner only unless the URI asks for more
/// (`?mode=0660` gives group members read and write, directories 0770).
struct FileModes {
  mode_t file = 0600;
  mode_t directory = 0700;
  /// Whether directories owned by another user of the group are accepted.
  [[nodiscard]] bool group_shared() const noexcept { return (file & 0060) != 0; }
};

/// An open directory of a queue. Movable; closes its descriptor on destruction.
class Directory {
 public:
  /// Opens the queue's root `path`, creating it and its parents with `modes.directory` when
  /// missing. The root itself may be a symbolic link (to another disk, say); it must belong
  /// to this user (or root) and not be writable by others, unless group sharing is asked
  /// for. kUnavailable otherwise, with the reason.
  static Result<Directory> open_root(const std::string& path, const FileModes& modes);

  Directory() noexcept = default;
  Directory(Directory&& other) noexcept;
  Directory& operator=(Directory&& other) noexcept;
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  ~Directory();

  /// Opens (creating when missing) the subdirectory `name`. Refused when it is a link, not a
  /// directory, owned by another user or writable by others (the same rule as the root).
  [[nodiscard]] Result<Directory> subdirectory(const std::string& name,
                                               const FileModes& modes) const;

  /// Makes the directory's entries durable (fsync).
  [[nodiscard]] Result<void> sync() const;

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string path_of(const std::string& name) const { return path_ + "/" + name; }

 private:
  Directory(int fd, std::string path) noexcept : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

/// Creates `name` in `dir` holding `header` and `size` bytes in all (zero after the header),
/// written, its first `allocate` bytes allocated (the rest a hole until MappedFile::allocate;
/// UINT64_MAX: all; all of it on a filesystem without fallocate), and on disk before it
/// appears under its name (an unnamed
/// O_TMPFILE, or a temporary name, linked into place), so no process ever sees it half made.
/// Another process creating it at the same moment is fine: one wins, both see the same file.
/// @return true if this call created it, false if it existed already; kUnavailable (with
///         "No space left on device" and the like) if it could not be made.
Result<bool> create_file_atomically(const Directory& dir, const std::string& name,
                                    std::span<const std::uint8_t> header, std::uint64_t size,
                                    mode_t mode, std::uint64_t allocate = UINT64_MAX);

/// Whether a directory entry is a temporary file of create_file_atomically.
bool is_temporary_name(const std::string& name) noexcept;

/// A mapping of a whole file, shared; unmapped and closed on destruction.
class MappedFile {
 public:
  enum class Access { kReadOnly, kReadWrite };

  /// Maps `name` in `dir`, which must be a regular file (not a link) of exactly
  /// `expected_size` bytes (0: any size). A file of another size is refused, never mapped:
  /// touching past its end would be a SIGBUS. Blocks are not allocated here: a writer calls
  /// allocate() for what it is about to write (segments grow their blocks as they fill).
  /// kNotFound when there is no such file. With `allow_short` (read-only only), a file
  /// shorter than `expected_size` (cut short by hand or a crash of the filesystem) is mapped
  /// at `expected_size` all the same, the part past its end reading as zeros (anonymous
  /// memory, never a SIGBUS), so that what it still holds can be read; file_size() says
  /// where it ends.
  static Result<MappedFile> open(const Directory& dir, const std::string& name,
                                 std::uint64_t expected_size, Access access,
                                 bool allow_short = false);

  /// Nothing mapped.
  MappedFile() noexcept = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::uint8_t* data() const noexcept { return data_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  /// The size of the file itself: size(), or less for a short file opened with allow_short.
  [[nodiscard]] std::uint64_t file_size() const noexcept { return file_size_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] bool writable() const noexcept { return writable_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Allocates the blocks of [offset, offset + length) (fallocate, size unchanged) before
  /// anything is written there through the mapping, so a full disk is this error ("No space
  /// left on device"), not a SIGBUS. Cheap where the blocks exist already. On a filesystem
  /// without fallocate it takes the range's write faults instead (populating its pages).
  [[nodiscard]] Result<void> allocate(std::uint64_t offset, std::uint64_t length) const;
  /// Writes [offset, offset + length) to disk and waits (msync MS_SYNC).
  [[nodiscard]] Result<void> sync(std::uint64_t offset, std::uint64_t length) const;

 private:
  void release() noexcept;
  [[nodiscard]] Result<void> allocate_by_faulting(std::uint64_t offset, std::uint64_t length) const;
  [[nodiscard]] Result<void> allocated_without_populate(std::uint64_t start,
                                                        std::uint64_t end) const;

  int fd_ = -1;
  std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t file_size_ = 0;
  bool writable_ = false;
  std::string path_;
};

namespace testing {
/// Tests only: called after every msync and fsync the queue completes, with the file's path,
/// a descriptor to read it through, and the range made durable (length 0: the whole file,
/// or for a directory its entries). The power-loss simulation keeps exactly these bytes.
using SyncObserver = void (*)(const std::string& path, int fd, std::uint64_t offset,
                              std::uint64_t length);
void set_sync_observer(SyncObserver observer) noexcept;
}  // namespace testing

/// Calls the sync observer, if a test set one.
void observe_sync(const std::string& path, int fd, std::uint64_t offset,
                  std::uint64_t length) noexcept;

}  // namespace mlops::orchestration::detail::mmap
