#include "orchestration/seek_probe.h"

#include <cstdint>
#include <optional>

#include "mlops/messaging/legacy_json.h"

namespace mlops::orchestration::detail {

namespace {

constexpr std::uintptr_t kAlignment = 8;  // what MLOpsMessage::borrow needs

std::optional<messaging::MLOpsMessage> read(std::span<const std::uint8_t> bytes,
                                            const messaging::VerifyLimits& limits) noexcept try {
  const bool aligned = reinterpret_cast<std::uintptr_t>(bytes.data()) % kAlignment == 0;
  auto message = aligned ? messaging::MLOpsMessage::borrow(bytes, limits)
                         : messaging::MLOpsMessage::from_bytes(bytes, limits);
  if (message) return std::move(*message);
  if (!messaging::legacy_json::looks_like(bytes)) return std::nullopt;
  auto legacy = messaging::legacy_json::decode(bytes, {.max_bytes = limits.max_bytes});
  if (legacy) return std::move(*legacy);
  return std::nullopt;
} catch (...) {  // out of memory copying or decoding: unreadable, so it starts the replay
  return std::nullopt;
}

}  // namespace

SeekProbe make_seek_probe(const Position& position, const messaging::VerifyLimits& limits) {
  return [position, limits](std::span<const std::uint8_t> bytes) {
    const auto message = read(bytes, limits);
    if (!message) return SeekPlace::kStart;
    if (position.kind() == Position::Kind::kTime) {
      const auto stamp = message->timestamp();
      return stamp && *stamp < position.time_ns() ? SeekPlace::kBefore : SeekPlace::kStart;
    }
    const auto id = message->id();
    if (!id || position.id() < *id) return SeekPlace::kStart;
    return *id == position.id() ? SeekPlace::kLast : SeekPlace::kBefore;
  };
}

}  // namespace mlops::orchestration::detail
