#pragma once
// What an inproc topic holds per message: the producer's own message, shared by reference
// with every consumer, or (send_raw) bytes no one has verified yet, which consumers verify
// before anyone reads them. The type says which.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <variant>

#include "mlops/messaging/mlops_message.h"

namespace mlops::orchestration::detail::inproc {

/// Bytes from send_raw(), 8-byte aligned, and what keeps them alive. Unverified.
struct RawPayload {
  std::span<const std::uint8_t> bytes;
  std::shared_ptr<const void> owner;
};

struct Entry {
  /// Nothing (a free slot); a message from send(), verified when it was built or received
  /// and immutable since; or unverified bytes from send_raw().
  std::variant<std::monostate, messaging::MLOpsMessage, RawPayload> payload;

  /// The message from send(), or nullptr.
  [[nodiscard]] const messaging::MLOpsMessage* message() const noexcept {
    return std::get_if<messaging::MLOpsMessage>(&payload);
  }
  /// The unverified bytes from send_raw(), or nullptr.
  [[nodiscard]] const RawPayload* raw() const noexcept { return std::get_if<RawPayload>(&payload); }

  /// The payload's bytes (empty for a free slot).
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept {
    if (const auto* held = message()) return held->bytes();
    if (const auto* held = raw()) return held->bytes;
    return {};
  }
  /// Payload bytes (what the topic's byte limit counts).
  [[nodiscard]] std::size_t size() const noexcept { return bytes().size(); }

  /// Drops the reference (a slot being freed).
  void clear() noexcept { payload.emplace<std::monostate>(); }
};

}  // namespace mlops::orchestration::detail::inproc
