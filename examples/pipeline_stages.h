#pragma once
// The demo pipeline's stages (ETL, Train, Evaluate) and its end (the report), whichever way
// they run: threads or processes, on any backend.
//
// No stage relies on the order messages arrive in: Kafka keeps none between partitions (or
// producers), and at-least-once delivery may bring a message twice. So each stage's
// end-of-stream message says how many items its stage sent before it; the next stage ends
// once it has seen that many distinct items (or at its deadline), and the summary names
// every item that went missing.

#include <mlops/orchestration.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace mlops::examples::pipeline {

/// The clock every deadline is on.
using Clock = std::chrono::steady_clock;

/// The topics between the stages: ETL -> etl-done -> Train -> train-done -> Evaluate ->
/// eval-done -> report.
inline constexpr std::array<const char*, 3> kTopics = {"etl-done", "train-done", "eval-done"};

/// What one stage saw.
struct StageResult {
  /// The stage, and its consumer group: "etl", "train", "evaluate" or "report".
  std::string name;
  /// The distinct items (datasets) it handled.
  std::set<std::int64_t> seen{};
  /// How many items the end of stream announced; nullopt until it came.
  std::optional<std::int64_t> expected{};
  /// Items sent on.
  std::int64_t sent = 0;
  /// Items that came after the end of stream.
  int after_end = 0;
  /// What went wrong, if anything.
  std::string error{};

  /// Whether it has every item the end of stream announced.
  [[nodiscard]] bool complete() const {
    return expected && static_cast<std::int64_t>(seen.size()) >= *expected;
  }
  /// Datasets 0 to datasets - 1, each once, the end of stream, and no error.
  [[nodiscard]] bool ok(int datasets) const {
    return error.empty() && expected && seen.size() == static_cast<std::size_t>(datasets) &&
           *seen.begin() == 0 && *seen.rbegin() == datasets - 1;
  }
};

/// Writes `text` with one write(): stages in separate processes share stdout without
/// tearing lines.
void write_line(const std::string& text);

/// One line: what `result` saw of `datasets`, and what went missing.
std::string summary_of(const StageResult& result, int datasets);

/// Runs the stage `result.name` ("etl", "train" or "evaluate") on `orchestration` until it
/// is done or `deadline` passes (ETL sends `datasets` items), filling `result`.
void run_named_stage(const orchestration::Orchestration& orchestration, int datasets,
                     Clock::time_point deadline, StageResult& result);

/// The pipeline's end: collects the evaluations until it has every one announced, or 5 s
/// after `deadline` (so a stage that ends at its deadline still reports what it has);
/// `best` gets the best accuracy.
StageResult report(const orchestration::Orchestration& orchestration, Clock::time_point deadline,
                   double& best);

}  // namespace mlops::examples::pipeline
