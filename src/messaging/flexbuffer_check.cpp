#include "messaging/flexbuffer_check.h"

#include <flatbuffers/flexbuffers.h>

#include <cstring>

namespace mlops::messaging::detail {
namespace {

using flexbuffers::Type;

std::uint64_t read_uint(const std::uint8_t* p, std::uint8_t width) noexcept {
  switch (width) {
    case 1: return *p;
    case 2: {
      std::uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      std::uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

bool valid_width(std::uint64_t width) noexcept {
  return width == 1 || width == 2 || width == 4 || width == 8;
}

// The walk mirrors flexbuffers::Verifier (FlatBuffers 2.0.8) check for check, in the same
// order, so it accepts what that accepts, except keys that never end, misaligned key
// vectors, deprecated string vectors whose strings overrun the buffer, and DAGs past the
// value budget.
class Walk {
 public:
  Walk(const std::uint8_t* buf, std::size_t size) noexcept
      : buf_(buf), size_(size), budget_(flex_value_budget(size)) {}

  FlexProblem root() noexcept {
    if (size_ < 3) return FlexProblem::kMalformed;
    const std::uint8_t width = buf_[size_ - 1];
    const std::uint8_t packed = buf_[size_ - 2];
    if (!valid_width(width) || size_ - 2 < width) return FlexProblem::kMalformed;
    return packed_ref(size_ - 2 - width, width, packed);
  }

  std::size_t visited() const noexcept { return flex_value_budget(size_) - budget_; }

 private:
  // A reference at byte `at` stored `parent_width` wide, typed by a packed type byte.
  FlexProblem packed_ref(std::size_t at, std::uint8_t parent_width, std::uint8_t packed) noexcept {
    return ref(at, parent_width, static_cast<std::uint8_t>(1U << (packed & 3U)),
               static_cast<Type>(packed >> 2U));
  }

  FlexProblem ref(std::size_t at, std::uint8_t parent_width, std::uint8_t width,
                  Type type) noexcept {
    if (budget_ == 0) return FlexProblem::kTooManyValues;
    --budget_;
    if (type >= flexbuffers::FBT_MAX_TYPE) return FlexProblem::kMalformed;
    if (flexbuffers::IsInline(type)) return FlexProblem::kNone;
    const std::uint64_t offset = read_uint(buf_ + at, parent_width);
    if (offset > at) return FlexProblem::kMalformed;  // also rules out offset > size
    const std::size_t target = at - static_cast<std::size_t>(offset);
    if ((target & (width - 1U)) != 0) return FlexProblem::kMalformed;
    switch (type) {
      case flexbuffers::FBT_INDIRECT_INT:
      case flexbuffers::FBT_INDIRECT_UINT:
      case flexbuffers::FBT_INDIRECT_FLOAT: return within(target, width);
      case flexbuffers::FBT_KEY: return key(target);
      case flexbuffers::FBT_MAP: {
        if (const auto problem = vector(target, width, type, Elements::kAny);
            problem != FlexProblem::kNone) {
          return problem;
        }
        return map_keys(target, width);
      }
      case flexbuffers::FBT_VECTOR: return vector(target, width, type, Elements::kAny);
      case flexbuffers::FBT_VECTOR_INT:
      case flexbuffers::FBT_VECTOR_BOOL:
      case flexbuffers::FBT_VECTOR_UINT:
      case flexbuffers::FBT_VECTOR_FLOAT:
      case flexbuffers::FBT_BLOB: return vector(target, width, type, Elements::kInline);
      case flexbuffers::FBT_VECTOR_KEY: return vector(target, width, type, Elements::kKeys);
      // Readers see these elements as strings with a one-byte length before them.
      case flexbuffers::FBT_VECTOR_STRING_DEPRECATED:
        return vector(target, width, type, Elements::kDeprecatedStrings);
      case flexbuffers::FBT_STRING: {
        if (const auto problem = vector(target, width, type, Elements::kInline);
            problem != FlexProblem::kNone) {
          return problem;
        }
        // The terminator's byte must be inside too (as flexbuffers::Verifier checks).
        return within(target,
                      static_cast<std::size_t>(read_uint(buf_ + target - width, width)) + 1);
      }
      case flexbuffers::FBT_VECTOR_INT2:
      case flexbuffers::FBT_VECTOR_UINT2:
      case flexbuffers::FBT_VECTOR_FLOAT2:
      case flexbuffers::FBT_VECTOR_INT3:
      case flexbuffers::FBT_VECTOR_UINT3:
      case flexbuffers::FBT_VECTOR_FLOAT3:
      case flexbuffers::FBT_VECTOR_INT4:
      case flexbuffers::FBT_VECTOR_UINT4:
      case flexbuffers::FBT_VECTOR_FLOAT4: {
        std::uint8_t length = 0;
        (void)flexbuffers::ToFixedTypedVectorElementType(type, &length);
        return within(target, static_cast<std::size_t>(width) * length);
      }
      default: return FlexProblem::kMalformed;
    }
  }

  // [at, at + length) inside the buffer (flexbuffers::Verifier's VerifyFrom: length < size).
  FlexProblem within(std::size_t at, std::size_t length) const noexcept {
    return length < size_ && at <= size_ - length ? FlexProblem::kNone : FlexProblem::kMalformed;
  }

  // A key is read with strlen: some byte from it to the end must be zero. Computed once per
  // buffer as "at or before the last zero byte", so shared keys cost O(1) per reference.
  FlexProblem key(std::size_t at) noexcept {
    if (last_zero_ == kUnknown) {
      const void* zero = ::memrchr(buf_, 0, size_);
      last_zero_ = zero == nullptr
                       ? kNone
                       : static_cast<std::size_t>(static_cast<const std::uint8_t*>(zero) - buf_);
    }
    return last_zero_ != kNone && at <= last_zero_ ? FlexProblem::kNone
                                                   : FlexProblem::kKeyWithoutNul;
  }

  enum class Elements : std::uint8_t { kAny, kInline, kKeys, kDeprecatedStrings };

  // A vector (map, string, blob, typed vector) whose elements start at `at`, its length
  // `width` bytes wide just before.
  FlexProblem vector(std::size_t at, std::uint8_t width, Type type, Elements elements) noexcept {
    if (++depth_ > kFlexMaxDepth) return FlexProblem::kTooDeep;
    if (++vectors_ > size_) return FlexProblem::kMalformed;
    if (width > at) return FlexProblem::kMalformed;
    const std::uint64_t count = read_uint(buf_ + at - width, width);
    const std::uint8_t element_width =
        type == flexbuffers::FBT_STRING || type == flexbuffers::FBT_BLOB ? std::uint8_t{1} : width;
    if (count >= size_) return FlexProblem::kMalformed;  // (bytes would be at least count)
    const std::size_t bytes = static_cast<std::size_t>(count) * element_width;
    if (within(at, bytes) != FlexProblem::kNone) return FlexProblem::kMalformed;
    const auto n = static_cast<std::size_t>(count);
    switch (elements) {
      case Elements::kAny: {
        // One packed type byte per element, after the elements.
        if (within(at + bytes, n) != FlexProblem::kNone) return FlexProblem::kMalformed;
        const std::uint8_t* types = buf_ + at + bytes;
        for (std::size_t i = 0; i < n; ++i) {
          if (const auto problem = packed_ref(at + i * width, width, types[i]);
              problem != FlexProblem::kNone) {
            return problem;
          }
        }
        break;
      }
      case Elements::kKeys:
      case Elements::kDeprecatedStrings:
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t element = at + i * width;
          if (const auto problem = ref(element, width, 1, flexbuffers::FBT_KEY);
              problem != FlexProblem::kNone) {
            return problem;
          }
          if (elements == Elements::kDeprecatedStrings) {
            // The key check found the target in bounds; its length byte and bytes must be.
            const std::size_t target =
                element - static_cast<std::size_t>(read_uint(buf_ + element, width));
            if (target == 0 ||
                within(target, std::size_t{buf_[target - 1]} + 1) != FlexProblem::kNone) {
              return FlexProblem::kMalformed;
            }
          }
        }
        break;
      case Elements::kInline: break;
    }
    --depth_;
    return FlexProblem::kNone;
  }

  // A map's keys: a typed vector of keys whose offset and width are the 3rd and 2nd fields
  // before the values.
  FlexProblem map_keys(std::size_t at, std::uint8_t width) noexcept {
    const std::size_t prefix = std::size_t{3} * width;
    if (prefix > at) return FlexProblem::kMalformed;
    const std::size_t fields = at - prefix;
    const std::uint64_t offset = read_uint(buf_ + fields, width);
    if (offset > fields) return FlexProblem::kMalformed;
    // Readers (flexbuffers::Map::Keys) take the width's low byte, as the Verifier does.
    const auto key_width = static_cast<std::uint8_t>(read_uint(buf_ + fields + width, width));
    if (!valid_width(key_width)) return FlexProblem::kMalformed;
    const std::size_t keys = fields - static_cast<std::size_t>(offset);
    // Unlike flexbuffers::Verifier, also the keys' alignment: readers read them in place.
    if ((keys & (key_width - 1U)) != 0) return FlexProblem::kMalformed;
    return vector(keys, key_width, flexbuffers::FBT_VECTOR_KEY, Elements::kKeys);
  }

  static constexpr std::size_t kUnknown = ~std::size_t{0};
  static constexpr std::size_t kNone = ~std::size_t{0} - 1;

  const std::uint8_t* buf_;
  std::size_t size_;
  std::size_t budget_;
  std::size_t depth_ = 0;
  std::size_t vectors_ = 0;
  std::size_t last_zero_ = kUnknown;
};

}  // namespace

FlexProblem check_flexbuffer(const std::uint8_t* data, std::size_t size,
                             FlexCheckStats* stats) noexcept {
  Walk walk(data, size);
  const auto problem = walk.root();
  if (stats != nullptr) stats->values_visited = walk.visited();
  return problem;
}

const char* describe(FlexProblem problem) noexcept {
  switch (problem) {
    case FlexProblem::kNone: return "no problem";
    case FlexProblem::kMalformed:
      return "an offset, width, length or type is out of bounds or misaligned";
    case FlexProblem::kTooDeep: return "it nests deeper than 64 levels (or in a cycle)";
    case FlexProblem::kKeyWithoutNul: return "a map key has no terminating NUL";
    case FlexProblem::kTooManyValues:
      return "it shares nodes too often (more than 2 values per byte to read)";
  }
  return "unknown problem";
}

}  // namespace mlops::messaging::detail
