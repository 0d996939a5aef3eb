#pragma once
// Small POSIX file helpers for the mmap queue: errors become Error values with errno text.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "mlops/result.h"

namespace mlops::orchestration::mmap {

/// An Error naming `what` failed on `path`, with errno's text.
Error errno_error(const std::string& what, const std::string& path);

/// mkdir -p.
Result<void> make_directories(const std::string& path);

/// Creates `path` holding `header` and `size` bytes in all (zero after the header), fully
/// written and allocated before it appears under its name: it is built under a temporary
/// name and linked into place, so no process ever sees it half made. Another process
/// creating it at the same moment is fine: one wins, both see the same file.
/// @return true if this call created it, false if it existed already.
Result<bool> create_file_atomically(const std::string& path, std::span<const std::uint8_t> header,
                                    std::uint64_t size);

/// A mapping of a whole file, read-write and shared; unmapped and closed on destruction.
class MappedFile {
 public:
  /// Maps `path`, which must be exactly `expected_size` bytes (0: any size). A file of
  /// another size is refused, never mapped: touching past its end would be a SIGBUS.
  /// `populate` faults every page in now rather than on first touch.
  static Result<MappedFile> open(const std::string& path, std::uint64_t expected_size,
                                 bool populate);

  /// Nothing mapped.
  MappedFile() noexcept = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::uint8_t* data() const noexcept { return data_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// Writes [offset, offset + length) to disk and waits (msync MS_SYNC).
  Result<void> sync(std::uint64_t offset, std::uint64_t length) const;

 private:
  MappedFile(int fd, std::uint8_t* data, std::uint64_t size) noexcept
      : fd_(fd), data_(data), size_(size) {}
  void release() noexcept;

  int fd_ = -1;
  std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace mlops::orchestration::mmap
