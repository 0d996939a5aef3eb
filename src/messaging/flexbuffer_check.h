#pragma once
// One pass over an untrusted FlexBuffer (an additional argument's value) that checks all
// that reading it needs: what flexbuffers::Verifier checks (offsets, widths, types, alignment
// relative to the FlexBuffer's first byte, depth 64, no more vectors than bytes), plus what
// it misses (every key ends in a NUL inside the buffer; a deprecated string vector's strings
// lie inside it) and a bound on shared references (the walk, and so any reader's, visits at
// most 2 values per byte plus 2: a crafted DAG cannot make reading exponential).

#include <cstddef>
#include <cstdint>

namespace mlops::messaging::detail {

enum class FlexProblem : std::uint8_t {
  kNone,
  kMalformed,      // an offset, width, length or type out of bounds or misaligned
  kTooDeep,        // nesting deeper than kFlexMaxDepth (or a cycle)
  kKeyWithoutNul,  // a key that does not end inside the buffer
  kTooManyValues,  // shared references: more values to visit than the bound allows
};

inline constexpr std::size_t kFlexMaxDepth = 64;

// The most values a FlexBuffer of `size` bytes may hold, shared references counted once per
// reference (a tree without sharing holds fewer than one per byte, keys included).
constexpr std::size_t flex_value_budget(std::size_t size) { return 2 * size + 2; }

struct FlexCheckStats {
  std::size_t values_visited = 0;  // references walked (for the linearity tests)
};

// Checks the FlexBuffer at `data` (`size` bytes). `stats`, when given, receives the walk's
// cost. Never reads outside [data, data + size).
FlexProblem check_flexbuffer(const std::uint8_t* data, std::size_t size,
                             FlexCheckStats* stats = nullptr) noexcept;

// What a problem means, for error messages.
const char* describe(FlexProblem problem) noexcept;

}  // namespace mlops::messaging::detail
