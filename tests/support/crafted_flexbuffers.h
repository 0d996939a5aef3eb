#pragma once
// Hostile FlexBuffers: written byte by byte (no FlexBuffers builder writes these), all with
// 1-byte widths so every offset is one byte and no alignment applies; or built, then damaged.
#include <flatbuffers/flexbuffers.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

namespace mlops::testing {

// Packed type byte of a 1-byte-wide value of FlexBuffers type `type` (flexbuffers::Type).
constexpr std::uint8_t packed_1(std::uint8_t type) { return static_cast<std::uint8_t>(type << 2U); }
inline constexpr std::uint8_t kFlexInt = 1;
inline constexpr std::uint8_t kFlexVector = 10;
inline constexpr std::uint8_t kFlexVectorStringDeprecated = 15;

// Ends `bytes` with a root: a 1-byte offset back to `target`, its packed type, width 1.
inline void finish_root(std::vector<std::uint8_t>& bytes, std::size_t target, std::uint8_t type) {
  bytes.push_back(static_cast<std::uint8_t>(bytes.size() - target));
  bytes.push_back(packed_1(type));
  bytes.push_back(1);
}

// Vectors v0..v_levels where v0 = [1] and each v_k = [v_(k-1), v_(k-1)]: `levels` * 5 + 6
// bytes whose tree, references followed, has 2^levels leaves.
inline std::vector<std::uint8_t> doubling_dag(int levels) {
  std::vector<std::uint8_t> bytes{1, 1, packed_1(kFlexInt)};  // size 1, the int 1, its type
  std::size_t previous = 1;                                   // where v0's elements start
  for (int k = 1; k <= levels; ++k) {
    bytes.push_back(2);  // size
    const std::size_t start = bytes.size();
    bytes.push_back(static_cast<std::uint8_t>(start - previous));
    bytes.push_back(static_cast<std::uint8_t>(start + 1 - previous));
    bytes.push_back(packed_1(kFlexVector));
    bytes.push_back(packed_1(kFlexVector));
    previous = start;
  }
  finish_root(bytes, previous, kFlexVector);
  return bytes;
}

// One vector of `inner` ints, then one of `outer` references all to it: about
// 2 * (inner + outer) bytes whose tree has inner * outer leaves.
inline std::vector<std::uint8_t> wide_dag(std::size_t inner, std::size_t outer) {
  std::vector<std::uint8_t> bytes{static_cast<std::uint8_t>(inner)};
  const std::size_t inner_start = bytes.size();
  for (std::size_t i = 0; i < inner; ++i) bytes.push_back(static_cast<std::uint8_t>(i));
  for (std::size_t i = 0; i < inner; ++i) bytes.push_back(packed_1(kFlexInt));
  bytes.push_back(static_cast<std::uint8_t>(outer));
  const std::size_t outer_start = bytes.size();
  for (std::size_t i = 0; i < outer; ++i) {
    bytes.push_back(static_cast<std::uint8_t>(outer_start + i - inner_start));
  }
  for (std::size_t i = 0; i < outer; ++i) bytes.push_back(packed_1(kFlexVector));
  finish_root(bytes, outer_start, kFlexVector);
  return bytes;
}

// A vector whose one element refers to the vector itself (offset 0): an endless tree.
inline std::vector<std::uint8_t> self_cycle() {
  std::vector<std::uint8_t> bytes{1, 0, packed_1(kFlexVector)};
  finish_root(bytes, 1, kFlexVector);
  return bytes;
}

// A deprecated string vector (readers take each element as a string whose length is the
// byte before it) holding "ab", that byte being `length`.
inline std::vector<std::uint8_t> deprecated_string_vector(std::uint8_t length) {
  std::vector<std::uint8_t> bytes{length, 'a', 'b', 0, 1};       // length, "ab\0", vector size 1
  bytes.push_back(static_cast<std::uint8_t>(bytes.size() - 1));  // element: back to 'a'
  finish_root(bytes, 5, kFlexVectorStringDeprecated);
  return bytes;
}

// A map {"abcd": blob of 0xFF bytes} as the builder wrote it, and the same bytes with the
// key's NUL overwritten.
struct UnterminatedKey {
  std::vector<std::uint8_t> intact;
  std::vector<std::uint8_t> damaged;
};

// One UnterminatedKey for each blob size under 300 where no zero byte follows the damaged
// key, so a reader's strlen on it would run off the end. FlatBuffers 2.0.8's FlexBuffers
// verifier accepts every one of them.
inline std::vector<UnterminatedKey> maps_with_unterminated_key() {
  std::vector<UnterminatedKey> maps;
  for (std::size_t blob = 1; blob < 300; ++blob) {
    flexbuffers::Builder flex;
    const auto start = flex.StartMap();
    flex.Key("abcd");
    const std::vector<std::uint8_t> ones(blob, 0xFF);
    flex.Blob(ones.data(), ones.size());
    flex.EndMap(start);
    flex.Finish();
    UnterminatedKey map{flex.GetBuffer(), flex.GetBuffer()};
    const auto key =
        std::search(map.damaged.begin(), map.damaged.end(), std::begin("abcd"), std::end("abcd"));
    if (key == map.damaged.end()) continue;  // the builder always writes it; never taken
    *(key + 4) = 'X';
    if (std::find(key, map.damaged.end(), 0) != map.damaged.end()) continue;  // a zero ends it
    maps.push_back(std::move(map));
  }
  return maps;
}

}  // namespace mlops::testing
