#include "messaging/owned_buffer.h"

#include <cstring>

namespace mlops::messaging::detail {

OwnedBytes copy_to_owned_buffer(std::span<const std::uint8_t> bytes) {
  // Whole 64-bit words: the allocation is aligned for every scalar FlatBuffers reads.
  const std::size_t words = (bytes.size() + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
#if defined(__cpp_lib_smart_ptr_for_overwrite)
  auto storage = std::make_shared_for_overwrite<std::uint64_t[]>(words == 0 ? 1 : words);
#else
  auto storage = std::make_shared<std::uint64_t[]>(words == 0 ? 1 : words);
#endif
  auto* data = reinterpret_cast<std::uint8_t*>(storage.get());
  if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
  return {data, bytes.size(), std::move(storage)};
}

}  // namespace mlops::messaging::detail
