#pragma once
// What an inproc topic holds per message: the producer's own message, shared by reference
// with every consumer, or (send_raw) unverified bytes in the same form.

#include <cstddef>
#include <optional>

#include "mlops/messaging/mlops_message.h"

namespace mlops::orchestration::detail::inproc {

struct Entry {
  /// A message from send(): verified when it was built or received, immutable since. From
  /// send_raw(): 8-byte aligned bytes that no one has verified yet (`verified` false), so
  /// only their bytes may be read until a consumer verifies them.
  std::optional<messaging::MLOpsMessage> message;
  bool verified = false;

  /// Payload bytes (what the topic's byte limit counts).
  [[nodiscard]] std::size_t size() const noexcept { return message ? message->bytes().size() : 0; }

  /// Drops the reference (a slot being freed).
  void clear() noexcept { message.reset(); }
};

}  // namespace mlops::orchestration::detail::inproc
