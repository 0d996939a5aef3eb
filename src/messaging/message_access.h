#pragma once
// What the library's transports may do with a message that its users may not: adopt bytes
// they have just verified without verifying them again. Not installed; orchestration reaches
// it as a declared dependency (mlops::messaging_internal), and only this header.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "mlops/messaging/mlops_message.h"

namespace mlops::messaging::detail {

struct MessageAccess {
  /// A message over `size` bytes at `data` that passed MLOpsMessage::borrow() (or were
  /// built by this library); `owner` keeps them alive.
  static MLOpsMessage adopt_verified(const std::uint8_t* data, std::size_t size,
                                     std::shared_ptr<const void> owner) noexcept {
    return MLOpsMessage(data, size, std::move(owner));
  }
};

}  // namespace mlops::messaging::detail
