#include "mlops/messaging/message_id.h"

#include <chrono>
#include <random>

namespace mlops::messaging {
namespace {

constexpr std::uint64_t kVersion7 = 0x7000;                  // In hi, bits 12..15.
constexpr std::uint64_t kVariantBits = 0x8000000000000000;   // In lo, "10" in the top two bits.
constexpr std::uint64_t kLoRandomMask = 0x3FFFFFFFFFFFFFFF;  // The 62 bits below the variant.

// splitmix64: a fast, well-mixed generator; ids need uniqueness, not secrecy.
std::uint64_t next_random(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t seed_once() noexcept {
  std::uint64_t seed =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device device;
    seed ^= (static_cast<std::uint64_t>(device()) << 32) ^ device();
  } catch (...) {
    // No entropy source: the clock and the thread's address still differ per thread.
  }
  int on_stack = 0;
  return seed ^ reinterpret_cast<std::uintptr_t>(&on_stack);
}

struct ThreadIdState {
  std::uint64_t random = seed_once();
  MessageId last{};
};

}  // namespace

MessageId MessageId::generate(std::int64_t unix_ns) noexcept {
  thread_local ThreadIdState state;
  const auto ns = static_cast<std::uint64_t>(unix_ns < 0 ? 0 : unix_ns);
  const std::uint64_t ms = ns / 1'000'000;
  // 12 bits of sub-millisecond time, as RFC 9562 method 3 suggests.
  const std::uint64_t sub_ms = ((ns % 1'000'000) << 12) / 1'000'000;
  MessageId id{((ms & 0xFFFFFFFFFFFF) << 16) | kVersion7 | sub_ms,
               kVariantBits | (next_random(state.random) & kLoRandomMask)};
  if (id <= state.last) {
    // Same tick (or the clock stepped back): count up from the last id so ids
    // from one thread strictly increase (RFC 9562 "monotonic random").
    id = state.last;
    if ((id.lo & kLoRandomMask) == kLoRandomMask) {
      id.hi += 1;  // Carry into the sub-millisecond bits.
      id.lo = kVariantBits;
    } else {
      id.lo += 1;
    }
  }
  state.last = id;
  return id;
}

std::string MessageId::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(36, '-');
  std::size_t pos = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    const std::uint64_t word = nibble < 16 ? hi : lo;
    const int shift = 60 - 4 * (nibble % 16);
    text[pos++] = kHex[(word >> shift) & 0xF];
  }
  return text;
}

std::optional<MessageId> MessageId::from_string(std::string_view text) noexcept {
  if (text.size() != 36) return std::nullopt;
  MessageId id;
  int nibble = 0;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    std::uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint64_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint64_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    std::uint64_t& word = nibble < 16 ? id.hi : id.lo;
    word = (word << 4) | digit;
    ++nibble;
  }
  return id;
}

std::int64_t unix_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mlops::messaging
