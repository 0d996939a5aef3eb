#include "mlops/messaging/mlops_message.h"

#include <flatbuffers/flatbuffers.h>

#include <string>

#include "messaging/flexbuffer_check.h"
#include "messaging/mlops_message_structure_generated.h"
#include "messaging/owned_buffer.h"

namespace mlops::messaging {
namespace {

constexpr std::size_t kMessageAlignment = 8;
constexpr std::size_t kHeaderBytes =
    sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength;

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

// The FlexBuffer values, which the structure Verifier left alone, and what no Verifier
// sees: keys sorted and unique (so binary search is right), every FlexBuffer aligned for
// in-place reads, and one walk of each FlexBuffer (detail::check_flexbuffer).
Result<void> check_arguments(const wire::Message& root, const std::uint8_t* base) {
  const auto* args = root.additional_arguments();
  if (args == nullptr) return {};
  std::string_view previous;
  const flatbuffers::uoffset_t count = args->size();
  for (flatbuffers::uoffset_t i = 0; i < count; ++i) {
    const auto* arg = args->Get(i);
    const std::string_view key(arg->key()->c_str(), arg->key()->size());
    if (i > 0 && !(previous < key)) {
      return error(ErrorCode::kCorrupt, "additional argument keys are not sorted and unique ('" +
                                            printable(key) + "' follows '" + printable(previous) +
                                            "')");
    }
    previous = key;
    const auto* value = arg->value();
    if (value == nullptr) continue;
    const auto offset = static_cast<std::size_t>(value->Data() - base);
    if ((offset & (flexbuffer_alignment(value->size()) - 1)) != 0) {
      return error(ErrorCode::kCorrupt, "additional argument '" + printable(key) +
                                            "' has a misaligned value (writers must align "
                                            "FlexBuffer values to 8 bytes)");
    }
    const auto problem = detail::check_flexbuffer(value->Data(), value->size());
    if (problem != detail::FlexProblem::kNone) {
      return error(ErrorCode::kCorrupt,
                   "additional argument '" + printable(key) +
                       "' has a corrupt FlexBuffer value: " + detail::describe(problem) + " (" +
                       std::to_string(value->size()) + " bytes)");
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
  // The structure only: the same schema without `(flexbuffer)`, so the FlexBuffers are
  // walked once, by check_arguments, rather than by the Verifier and again by us.
  if (!wire_structure::VerifyMessageBuffer(verifier)) {
    // The Verifier checks the identifier and the root offset too; which one failed is
    // worked out only now, so a message that passes pays for each check once.
    if (!flatbuffers::BufferHasIdentifier(bytes.data(), wire::MessageIdentifier())) {
      const std::string_view found(
          reinterpret_cast<const char*>(bytes.data()) + sizeof(flatbuffers::uoffset_t),
          flatbuffers::kFileIdentifierLength);
      return error(ErrorCode::kWrongIdentifier, "file identifier is '" + printable(found) +
                                                    "', expected '" + wire::MessageIdentifier() +
                                                    "'");
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
                     std::to_string(limits.max_depth) + " or " + std::to_string(limits.max_tables) +
                     " tables (" + std::to_string(bytes.size()) + " bytes)");
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
  const auto* args = arguments();
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
  const auto* arg = arguments()->Get(static_cast<flatbuffers::uoffset_t>(index));
  const auto* value = arg->value();
  if (value == nullptr) return {key_of(*arg), {}};
  return {key_of(*arg), {value->Data(), value->size()}};
}

}  // namespace mlops::messaging
