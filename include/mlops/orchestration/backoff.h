#pragma once
/// \file Backoff: the delay before a message's next retry, from how often it was retried.

#include <chrono>
#include <cstdint>

#include "mlops/export.h"

namespace mlops::orchestration {

/// Exponential backoff with jitter for Consumer::retry: retry n (0 for a message never
/// retried) waits initial * multiplier^n, at most `max`, then spread by +-jitter (0.2: up
/// to 20% shorter or longer, so failed workers do not come back in lock-step). Aggregate:
/// `Backoff{.initial = 1s, .multiplier = 2, .max = 5min, .jitter = 0.2}`.
struct MLOPS_EXPORT Backoff {
  /// The delay before the first retry.
  std::chrono::milliseconds initial{1000};
  /// What each further retry multiplies the delay by (below 1 counts as 1).
  double multiplier = 2.0;
  /// The longest delay (before jitter).
  std::chrono::milliseconds max{std::chrono::minutes(5)};
  /// Fraction of the delay added or taken at random, clamped to [0, 1].
  double jitter = 0.2;

  /// The delay for a message retried `retries` times so far (negative counts as 0); never
  /// negative. Thread-safe (each thread draws its own jitter).
  [[nodiscard]] std::chrono::milliseconds delay_for(std::int32_t retries) const noexcept;
};

}  // namespace mlops::orchestration
