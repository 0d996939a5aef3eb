#include "mlops/messaging/mlops_message.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>
#include <flatbuffers/flexbuffers.h>
#include <string>
#include <vector>

#include "messaging/owned_buffer.h"

namespace mlops::messaging {
namespace {

constexpr std::size_t kMessageAlignment = 8;
// Without the tracker a crafted FlexBuffer of n bytes costs up to about n^3/108 steps
// (keys are re-scanned for every reference): about 150 thousand at 256 bytes.
constexpr std::size_t kFlexTrackerBytes = 256;
constexpr std::size_t kHeaderBytes = sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength;

Error error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

std::string printable(std::string_view bytes) {
  std::string text;
  for (const char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      text += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto byte = static_cast<unsigned char>(c);
      text += "\\x";
      text += kHex[byte >> 4];
      text += kHex[byte & 0xF];
    }
  }
  return text;
}

// A FlexBuffer reads scalars as wide as 8 bytes in place, at offsets its verifier checked
// are aligned relative to the FlexBuffer's first byte. A scalar of width w needs w + 2
// bytes (value, type, root width), so a buffer of `size` bytes needs its first byte
// aligned to the widest w that fits.
std::size_t flexbuffer_alignment(std::size_t size) {
  if (size >= 10) return 8;
  if (size >= 6) return 4;
  if (size >= 4) return 2;
  return 1;
}

// FlatBuffers 2.0.8's FlexBuffers verifier accepts a key that never ends (its VerifyKey
// returns at the first non-zero byte), and every key reader uses strlen. So every key of
// every map (and every key value) must end inside its FlexBuffer. `budget` bounds the walk
// (a tree has fewer nodes than bytes; a crafted DAG could otherwise make it exponential).
bool keys_terminate(const flexbuffers::Reference& ref, const std::uint8_t* end,
                    std::size_t& budget) {
  if (budget == 0) return false;
  --budget;
  const auto ends = [&](const char* key) {
    const auto* start = reinterpret_cast<const std::uint8_t*>(key);
    return start < end && std::memchr(start, 0, static_cast<std::size_t>(end - start)) != nullptr;
  };
  switch (ref.GetType()) {
    case flexbuffers::FBT_KEY: return ends(ref.AsKey());
    case flexbuffers::FBT_MAP: {
      const auto map = ref.AsMap();
      const auto keys = map.Keys();
      const auto values = map.Values();
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (!ends(keys[i].AsKey()) || !keys_terminate(values[i], end, budget)) return false;
      }
      return true;
    }
    case flexbuffers::FBT_VECTOR: {
      const auto vector = ref.AsVector();
      for (std::size_t i = 0; i < vector.size(); ++i) {
        if (!keys_terminate(vector[i], end, budget)) return false;
      }
      return true;
    }
    case flexbuffers::FBT_VECTOR_KEY: {
      const auto vector = ref.AsTypedVector();
      for (std::size_t i = 0; i < vector.size(); ++i) {
        if (!ends(vector[i].AsKey())) return false;
      }
      return true;
    }
    default: return true;  // Scalars, strings and blobs are read by length.
  }
}

// Whether a verified FlexBuffer's root can hold a key (a map, a vector, a key itself):
// keys_terminate has nothing to check in scalars, strings and blobs, most arguments, and
// its walk cost as much as the FlexBuffer verifier's own. The root's type is the byte
// before the last (the last is its width).
bool may_hold_keys(const flatbuffers::Vector<std::uint8_t>& flexbuffer) {
  if (flexbuffer.size() < 2) return true;  // let keys_terminate judge
  const auto type = static_cast<flexbuffers::Type>(flexbuffer.Data()[flexbuffer.size() - 2] >> 2);
  return type == flexbuffers::FBT_KEY || type == flexbuffers::FBT_MAP ||
         type == flexbuffers::FBT_VECTOR || type == flexbuffers::FBT_VECTOR_KEY;
}

// What the FlatBuffers Verifier cannot see: keys sorted and unique (so binary search is
// right) and every nested FlexBuffer aligned for in-place reads.
Result<void> check_arguments(const wire::Message& root, const std::uint8_t* base) {
  const auto* args = root.additional_arguments();
  if (args == nullptr) return {};
  std::string_view previous;
  for (flatbuffers::uoffset_t i = 0; i < args->size(); ++i) {
    const auto* arg = args->Get(i);
    const std::string_view key(arg->key()->c_str(), arg->key()->size());
    if (i > 0 && !(previous < key)) {
      return error(ErrorCode::kCorrupt, "additional argument keys are not sorted and unique ('" +
                                            printable(key) + "' follows '" +
                                            printable(previous) + "')");
    }
    previous = key;
    if (const auto* value = arg->value()) {
      const auto offset = static_cast<std::size_t>(value->Data() - base);
      if ((offset & (flexbuffer_alignment(value->size()) - 1)) != 0) {
        return error(ErrorCode::kCorrupt, "additional argument '" + printable(key) +
                                              "' has a misaligned value (writers must align "
                                              "FlexBuffer values to 8 bytes)");
      }
      std::size_t budget = value->size() + 1;
      if (may_hold_keys(*value) &&
          !keys_terminate(flexbuffers::GetRoot(value->Data(), value->size()),
                          value->Data() + value->size(), budget)) {
        return error(ErrorCode::kCorrupt, "additional argument '" + printable(key) +
                                              "' has a map key without its terminating NUL "
                                              "(or shares nodes too often to check)");
      }
    }
  }
  return {};
}

Result<void> verify(std::span<const std::uint8_t> bytes, const VerifyLimits& limits) {
  if (bytes.empty()) return error(ErrorCode::kEmpty, "message is empty (0 bytes)");
  const std::size_t max_bytes = std::min(limits.max_bytes, kAbsoluteMaxMessageBytes);
  if (bytes.size() > max_bytes) {
    return error(ErrorCode::kTooLarge, "message is " + std::to_string(bytes.size()) +
                                           " bytes; the limit is " + std::to_string(max_bytes));
  }
  if (bytes.size() < kHeaderBytes) {
    return error(ErrorCode::kTruncated, "message is " + std::to_string(bytes.size()) +
                                            " bytes; a root offset and file identifier need 8");
  }
  flatbuffers::Verifier::Options options;
  options.max_depth = limits.max_depth;
  options.max_tables = limits.max_tables;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
  // Shared (DAG) references in a FlexBuffer make its verifier revisit nodes: harmless for
  // tiny messages, a denial of service for larger crafted ones. Above kFlexTrackerBytes a
  // reuse tracker keeps verification linear (at the price of clearing a byte per byte of
  // every nested FlexBuffer).
  thread_local std::vector<std::uint8_t> flex_reuse_tracker;
  if (bytes.size() > kFlexTrackerBytes) verifier.SetFlexReuseTracker(&flex_reuse_tracker);
  if (!wire::VerifyMessageBuffer(verifier)) {
    // The Verifier checks the identifier and the root offset too; which one failed is
    // worked out only now, so a message that passes pays for each check once.
    if (!flatbuffers::BufferHasIdentifier(bytes.data(), wire::MessageIdentifier())) {
      const std::string_view found(reinterpret_cast<const char*>(bytes.data()) +
                                       sizeof(flatbuffers::uoffset_t),
                                   flatbuffers::kFileIdentifierLength);
      return error(ErrorCode::kWrongIdentifier, "file identifier is '" + printable(found) +
                                                    "', expected '" +
                                                    wire::MessageIdentifier() + "'");
    }
    const auto root_offset = flatbuffers::ReadScalar<flatbuffers::uoffset_t>(bytes.data());
    if (root_offset >= bytes.size()) {
      return error(ErrorCode::kTruncated, "root table at byte " + std::to_string(root_offset) +
                                              " lies past the end (" +
                                              std::to_string(bytes.size()) + " bytes)");
    }
    return error(ErrorCode::kCorrupt,
                 "message failed FlatBuffers verification: an offset, length or alignment is "
                 "out of bounds, or nesting exceeds depth " +
                     std::to_string(limits.max_depth) + " or " +
                     std::to_string(limits.max_tables) + " tables (" +
                     std::to_string(bytes.size()) + " bytes)");
  }
  return check_arguments(*wire::GetMessage(bytes.data()), bytes.data());
}

Result<void> check_alignment(std::span<const std::uint8_t> bytes) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % kMessageAlignment != 0) {
    return error(ErrorCode::kMisaligned,
                 "message bytes are not 8-byte aligned, so they cannot be read in place; "
                 "use from_bytes() to copy them");
  }
  return {};
}

std::string_view key_of(const wire::Argument& arg) {
  return {arg.key()->c_str(), arg.key()->size()};
}

}  // namespace

Result<MLOpsMessage> MLOpsMessage::from_bytes(std::span<const std::uint8_t> bytes,
                                              const VerifyLimits& limits) {
  // Refuse oversized input before copying it; verify the aligned copy.
  if (bytes.size() > std::min(limits.max_bytes, kAbsoluteMaxMessageBytes)) {
    if (auto checked = verify(bytes, limits); !checked) return checked.error();
  }
  auto owned = detail::copy_to_owned_buffer(bytes);
  return from_shared({owned.data, owned.size}, std::move(owned.owner), limits);
}

Result<MLOpsMessage> MLOpsMessage::from_bytes(std::string_view bytes, const VerifyLimits& limits) {
  return from_bytes(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                    limits);
}

Result<MLOpsMessage> MLOpsMessage::from_shared(std::span<const std::uint8_t> bytes,
                                               std::shared_ptr<const void> owner,
                                               const VerifyLimits& limits) {
  if (auto aligned = check_alignment(bytes); !aligned) return aligned.error();
  if (auto checked = verify(bytes, limits); !checked) return checked.error();
  return MLOpsMessage(bytes.data(), bytes.size(), std::move(owner));
}

MLOpsMessage MLOpsMessage::owned() const {
  if (is_owning()) return *this;
  auto copy = detail::copy_to_owned_buffer(bytes());
  return MLOpsMessage(copy.data, copy.size, std::move(copy.owner));
}

Result<MLOpsMessage> MLOpsMessage::borrow(std::span<const std::uint8_t> bytes,
                                          const VerifyLimits& limits) {
  return from_shared(bytes, nullptr, limits);
}

std::optional<ValueView> MLOpsMessage::additional_argument(std::string_view key) const noexcept {
  const auto* args = root()->additional_arguments();
  if (args == nullptr) return std::nullopt;
  // Keys were checked sorted and unique when the message was verified (or built).
  flatbuffers::uoffset_t low = 0;
  flatbuffers::uoffset_t high = args->size();
  while (low < high) {
    const auto mid = low + (high - low) / 2;
    const int order = key_of(*args->Get(mid)).compare(key);
    if (order == 0) return additional_argument_at(mid).value;
    if (order < 0) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return std::nullopt;
}

Value::Map MLOpsMessage::additional_arguments() const {
  Value::Map map;
  for (std::size_t i = 0; i < additional_argument_count(); ++i) {
    const auto arg = additional_argument_at(i);
    map.emplace(std::string(arg.key), arg.value.to_value());
  }
  return map;
}

MLOpsMessage::RawArgument MLOpsMessage::raw_argument_at(std::size_t index) const noexcept {
  const auto* arg = root()->additional_arguments()->Get(static_cast<flatbuffers::uoffset_t>(index));
  const auto* value = arg->value();
  if (value == nullptr) return {key_of(*arg), {}};
  return {key_of(*arg), {value->Data(), value->size()}};
}

}  // namespace mlops::messaging
