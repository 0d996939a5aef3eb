#pragma once
// A heap copy of message bytes, 8-byte aligned so FlatBuffers can read it in place.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace mlops::messaging::detail {

struct OwnedBytes {
  const std::uint8_t* data;
  std::size_t size;
  std::shared_ptr<const void> owner;
};

/// One allocation holding the reference count and the bytes together.
OwnedBytes copy_to_owned_buffer(std::span<const std::uint8_t> bytes);

}  // namespace mlops::messaging::detail
