// CRC32C guards every record on disk: the fast three-stream version must give exactly the
// byte-at-a-time table's value for every length and alignment, or old logs read as damaged.
#include "orchestration/mmap/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace mmap = mlops::orchestration::detail::mmap;

TEST(Crc32c, KnownCheckValue) {
  const char text[] = "123456789";
  EXPECT_EQ(mmap::crc32c(text, 9), 0xE3069283u);
  EXPECT_EQ(mmap::testing::crc32c_portable(text, 9), 0xE3069283u);
  EXPECT_EQ(mmap::crc32c(text, 0), 0u);
}

TEST(Crc32c, MatchesTheTableForEveryLengthAndAlignment) {
  std::mt19937_64 random(13);
  std::vector<std::uint8_t> bytes(6000);
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random());
  // Every length across the block sizes (64, 128 and 512 bytes, three at a time) and past them.
  for (std::size_t size = 0; size <= 4700; size += (size < 1700 ? 1 : 37)) {
    const std::size_t offset = size % 8;
    ASSERT_EQ(mmap::crc32c(bytes.data() + offset, size),
              mmap::testing::crc32c_portable(bytes.data() + offset, size))
        << "length " << size << " at offset " << offset;
  }
}

TEST(Crc32c, OneFlippedBitChangesIt) {
  std::vector<std::uint8_t> bytes(200, 0x5A);
  const auto clean = mmap::crc32c(bytes.data(), bytes.size());
  for (std::size_t bit = 0; bit < bytes.size() * 8; bit += 7) {
    bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_NE(mmap::crc32c(bytes.data(), bytes.size()), clean) << "bit " << bit;
    bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  }
}
