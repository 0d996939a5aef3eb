#include "orchestration/mmap/crc32c.h"

#include <array>
#include <cstring>

namespace mlops::orchestration::detail::mmap {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, reflected.

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) != 0 ? kPolynomial : 0);
    table[i] = crc;
  }
  return table;
}
constexpr auto kTable = make_table();

std::uint32_t crc32c_software(const std::uint8_t* p, std::size_t size) noexcept {
  std::uint32_t crc = 0xFFFFFFFF;
  for (std::size_t i = 0; i < size; ++i) crc = (crc >> 8) ^ kTable[(crc ^ p[i]) & 0xFF];
  return ~crc;
}

#if defined(__x86_64__)
// The crc32 instruction takes three cycles and can start one each cycle: three independent
// streams over three equal blocks run about three times as fast as one (reading a record's
// checksum is most of a reader's work). The streams are joined by moving a block's register
// past the blocks after it: the register after n zero bytes is linear in the register, so
// it is four table lookups (one per byte of the register).
struct ZeroShift {
  std::array<std::array<std::uint32_t, 256>, 4> table{};

  [[nodiscard]] std::uint32_t operator()(std::uint32_t crc) const noexcept {
    return table[0][crc & 0xFF] ^ table[1][(crc >> 8) & 0xFF] ^ table[2][(crc >> 16) & 0xFF] ^
           table[3][crc >> 24];
  }
};

// The register after `zeros` zero bytes, for each value of one byte of it (built from the
// images of the 32 single bits: the map is linear).
ZeroShift make_shift(std::size_t zeros) {
  std::array<std::uint32_t, 32> bit_image{};
  for (int bit = 0; bit < 32; ++bit) {
    std::uint32_t crc = std::uint32_t{1} << bit;
    for (std::size_t i = 0; i < zeros; ++i) crc = (crc >> 8) ^ kTable[crc & 0xFF];
    bit_image[static_cast<std::size_t>(bit)] = crc;
  }
  ZeroShift shift;
  for (std::size_t byte = 0; byte < 4; ++byte) {
    for (std::uint32_t value = 0; value < 256; ++value) {
      std::uint32_t image = 0;
      for (std::size_t bit = 0; bit < 8; ++bit) {
        if ((value >> bit & 1) != 0) image ^= bit_image[byte * 8 + bit];
      }
      shift.table[byte][value] = image;
    }
  }
  return shift;
}

// Block sizes of the three streams: long ones for big payloads, shorter ones for the rest
// (a 200-byte message is one round of tiny ones: 24 crc32 steps in three streams, not 25
// in one).
constexpr std::size_t kLongBlock = 512;
constexpr std::size_t kShortBlock = 128;
constexpr std::size_t kTinyBlock = 64;

struct Shifts {
  ZeroShift long_once = make_shift(kLongBlock);
  ZeroShift long_twice = make_shift(2 * kLongBlock);
  ZeroShift short_once = make_shift(kShortBlock);
  ZeroShift short_twice = make_shift(2 * kShortBlock);
  ZeroShift tiny_once = make_shift(kTinyBlock);
  ZeroShift tiny_twice = make_shift(2 * kTinyBlock);
};

__attribute__((target("sse4.2"))) std::uint64_t crc_words(std::uint64_t crc, const std::uint8_t* p,
                                                          std::size_t words) noexcept {
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, p + i * 8, 8);
    crc = __builtin_ia32_crc32di(crc, word);
  }
  return crc;
}

// One round over three blocks of `Block` bytes from register `crc`.
template <std::size_t Block>
__attribute__((target("sse4.2"))) std::uint32_t three_blocks(std::uint32_t crc,
                                                             const std::uint8_t* p,
                                                             const ZeroShift& once,
                                                             const ZeroShift& twice) noexcept {
  std::uint64_t a = crc;
  std::uint64_t b = 0;
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < Block; i += 8) {
    std::uint64_t wa;
    std::uint64_t wb;
    std::uint64_t wc;
    std::memcpy(&wa, p + i, 8);
    std::memcpy(&wb, p + Block + i, 8);
    std::memcpy(&wc, p + 2 * Block + i, 8);
    a = __builtin_ia32_crc32di(a, wa);
    b = __builtin_ia32_crc32di(b, wb);
    c = __builtin_ia32_crc32di(c, wc);
  }
  return twice(static_cast<std::uint32_t>(a)) ^ once(static_cast<std::uint32_t>(b)) ^
         static_cast<std::uint32_t>(c);
}

__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(const std::uint8_t* p,
                                                             std::size_t size) noexcept {
  static const Shifts shifts;
  std::uint32_t crc = 0xFFFFFFFF;
  while (size >= 3 * kLongBlock) {
    crc = three_blocks<kLongBlock>(crc, p, shifts.long_once, shifts.long_twice);
    p += 3 * kLongBlock;
    size -= 3 * kLongBlock;
  }
  while (size >= 3 * kShortBlock) {
    crc = three_blocks<kShortBlock>(crc, p, shifts.short_once, shifts.short_twice);
    p += 3 * kShortBlock;
    size -= 3 * kShortBlock;
  }
  if (size >= 3 * kTinyBlock) {
    crc = three_blocks<kTinyBlock>(crc, p, shifts.tiny_once, shifts.tiny_twice);
    p += 3 * kTinyBlock;
    size -= 3 * kTinyBlock;
  }
  auto tail = static_cast<std::uint32_t>(crc_words(crc, p, size / 8));
  p += size / 8 * 8;
  for (std::size_t i = 0; i < size % 8; ++i) tail = __builtin_ia32_crc32qi(tail, p[i]);
  return ~tail;
}
#endif

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const std::uint8_t*>(data);
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return crc32c_sse42(p, size);
#endif
  return crc32c_software(p, size);
}

namespace testing {
std::uint32_t crc32c_portable(const void* data, std::size_t size) noexcept {
  return crc32c_software(static_cast<const std::uint8_t*>(data), size);
}
}  // namespace testing

}  // namespace mlops::orchestration::detail::mmap
