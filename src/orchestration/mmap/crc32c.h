#pragma once
// CRC32C (Castagnoli), which guards every record's payload.

#include <cstddef>
#include <cstdint>

namespace mlops::orchestration::detail::mmap {

/// CRC32C of `size` bytes; uses the SSE4.2 instruction when the CPU has it.
std::uint32_t crc32c(const void* data, std::size_t size) noexcept;

namespace testing {
/// The byte-at-a-time table version, whatever the CPU: what tests check crc32c() against.
std::uint32_t crc32c_portable(const void* data, std::size_t size) noexcept;
}  // namespace testing

}  // namespace mlops::orchestration::detail::mmap
