#include "mlops/orchestration/backoff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

namespace mlops::orchestration {

std::chrono::milliseconds Backoff::delay_for(std::int32_t retries) const noexcept {
  const double base = static_cast<double>(std::max<std::int64_t>(initial.count(), 0));
  const double cap = static_cast<double>(std::max<std::int64_t>(max.count(), 0));
  const double factor = std::isfinite(multiplier) ? std::max(multiplier, 1.0) : 1.0;
  // pow of a huge exponent is inf, which min() turns into the cap.
  double delay = std::min(base * std::pow(factor, std::max(retries, 0)), cap);
  const double spread = std::isfinite(jitter) ? std::clamp(jitter, 0.0, 1.0) : 0.0;
  if (spread > 0 && delay > 0) {
    // Seeded from the clock: random_device may throw, and jitter needs no secrecy.
    thread_local std::minstd_rand engine{static_cast<std::uint_fast32_t>(
        std::chrono::steady_clock::now().time_since_epoch().count())};
    std::uniform_real_distribution<double> draw(-spread, spread);
    delay *= 1.0 + draw(engine);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(delay, 0.0)));
}

}  // namespace mlops::orchestration
