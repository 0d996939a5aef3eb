#pragma once
/// \file MessageId: the 128-bit, time-ordered id every built message carries.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mlops/export.h"

namespace mlops::messaging {

/// A UUIDv7-style id: 48 bits of Unix milliseconds, the version, 12 bits of
/// sub-millisecond time, the variant and 62 bits that are random at first and
/// then count up within a thread. Ids made by one thread strictly increase;
/// ids from different threads or processes collide with negligible probability.
/// Comparing ids orders them by creation time (to within a millisecond across threads).
/// Thread-safety: a plain value.
struct MLOPS_EXPORT MessageId {
  std::uint64_t hi = 0;  ///< Milliseconds, version, sub-millisecond time.
  std::uint64_t lo = 0;  ///< Variant and the 62 random, increasing bits.

  friend constexpr auto operator<=>(const MessageId&, const MessageId&) = default;

  /// A new id for the time `unix_ns` (nanoseconds since the Unix epoch),
  /// strictly greater than every id this thread generated before. Never allocates.
  static MessageId generate(std::int64_t unix_ns) noexcept;

  /// The canonical text form, "0190b1c2-d3e4-7f00-8a1b-2c3d4e5f6a7b".
  [[nodiscard]] std::string to_string() const;

  /// Parses the canonical text form (hex digits in either case); nullopt if malformed.
  static std::optional<MessageId> from_string(std::string_view text) noexcept;

  /// The Unix milliseconds embedded in the id.
  [[nodiscard]] constexpr std::int64_t unix_ms() const noexcept {
    return static_cast<std::int64_t>(hi >> 16);
  }
};

/// Nanoseconds since the Unix epoch, from the system clock. Never allocates.
MLOPS_EXPORT std::int64_t unix_now_ns() noexcept;

}  // namespace mlops::messaging
