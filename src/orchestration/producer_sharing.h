#pragma once
// BENCHMARKS ONLY: a switch that makes producers skip what lets several threads share one,
// so bench/producer_sharing_bench.cpp can measure its cost on the single-thread path
// against the same run. Nothing else ever turns it off.

namespace mlops::orchestration::detail {

/// Producers created while this is off skip their sharing safeguards: the kafka producer's
/// lock, the atomic counting of other threads' sends, the check that refuses overlapping
/// calls on a backend that is not shareable. On by default.
void set_producer_sharing_for_benchmarks(bool on) noexcept;

/// Whether producers created now keep their sharing safeguards (always, outside benchmarks).
[[nodiscard]] bool producer_sharing() noexcept;

}  // namespace mlops::orchestration::detail
