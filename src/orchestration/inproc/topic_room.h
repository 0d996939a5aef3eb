#pragma once
// Topic's room word (held_): entries in the high bits, payload bytes in the low
// kHeldBytesBits, so one compare-and-swap claims both.

#include <bit>
#include <cstddef>
#include <cstdint>

#include "orchestration/inproc/topic.h"

namespace mlops::orchestration::detail::inproc {

static_assert(std::bit_width(kMaxTopicMessages) <= 64 - kHeldBytesBits,
              "the room word must count kMaxTopicMessages entries");

inline constexpr std::uint64_t kHeldBytesMask = (std::uint64_t{1} << kHeldBytesBits) - 1;

/// The room word's value for `count` entries holding `bytes`.
constexpr std::uint64_t held(std::uint64_t count, std::size_t bytes) noexcept {
  return (count << kHeldBytesBits) | bytes;
}

}  // namespace mlops::orchestration::detail::inproc
