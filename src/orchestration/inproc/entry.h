#pragma once
// What an inproc topic holds per message: the producer's own message, shared by reference
// with every consumer, or (send_raw) unverified bytes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "mlops/messaging/mlops_message.h"

namespace mlops::orchestration::detail::inproc {

struct Entry {
  /// A message from send(): verified when it was built or received, immutable since.
  std::optional<messaging::MLOpsMessage> message;
  /// Bytes from send_raw(), 8-byte aligned so consumers can verify them in place; the
  /// pointer is their first byte.
  std::shared_ptr<const void> raw;
  /// Payload bytes (what the topic's byte limit counts).
  std::size_t size = 0;

  /// Drops the references (a slot being freed).
  void clear() noexcept {
    message.reset();
    raw.reset();
  }

  [[nodiscard]] std::span<const std::uint8_t> raw_bytes() const noexcept {
    return {static_cast<const std::uint8_t*>(raw.get()), size};
  }
};

}  // namespace mlops::orchestration::detail::inproc
