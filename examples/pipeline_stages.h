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
/// Where Evaluate's retries wait (Consumer::retry) and its dead letters go: the report reads
/// the dead letters, so the summary names them.
inline constexpr std::array<const char*, 2> kFailureTopics = {"train-done.retry", "train-done.dlq"};

/// The dataset whose first evaluation fails (a preempted GPU): retried with backoff, it
/// passes the second time. -1: none (fewer than 2 datasets).
[[nodiscard]] inline std::int64_t flaky_dataset(int datasets) { return datasets >= 2 ? 1 : -1; }
/// The dataset whose evaluation always fails (a corrupt metrics file): retried with backoff
/// until max_retries, then dead-lettered. -1: none (fewer than 3 datasets).
[[nodiscard]] inline std::int64_t poisoned_dataset(int datasets) {
  return datasets >= 3 ? datasets - 1 : -1;
}

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
  /// Items whose retry is scheduled and has not come back yet.
  std::set<std::int64_t> retrying{};
  /// Retries scheduled (Consumer::retry), and the items dead-lettered (Evaluate: sent to
  /// the dead-letter topic; the report: found there).
  int retried = 0;
  std::set<std::int64_t> dead_lettered{};
  /// How many dead letters the end of stream announced.
  std::int64_t dead_expected = 0;
  /// What went wrong, if anything.
  std::string error{};

  /// Whether it has every item the end of stream announced.
  [[nodiscard]] bool complete() const {
    return expected && static_cast<std::int64_t>(seen.size()) >= *expected && retrying.empty() &&
           static_cast<std::int64_t>(dead_lettered.size()) >= dead_expected;
  }
  /// Datasets 0 to datasets - 1, each seen or dead-lettered, only the poisoned one
  /// dead-lettered, the end of stream, and no error.
  [[nodiscard]] bool ok(int datasets) const {
    std::set<std::int64_t> all = seen;
    all.insert(dead_lettered.begin(), dead_lettered.end());
    const bool dead_ok =
        dead_lettered.empty() ||
        (dead_lettered.size() == 1 && *dead_lettered.begin() == poisoned_dataset(datasets));
    return error.empty() && expected && dead_ok &&
           all.size() == static_cast<std::size_t>(datasets) && *all.begin() == 0 &&
           *all.rbegin() == datasets - 1;
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

/// The pipeline's end: collects the evaluations (and Evaluate's dead letters) until it has every
/// one announced, or 5 s after `deadline` (so a stage that ends at its deadline still reports what
/// it has); `best` gets the best accuracy.
StageResult report(const orchestration::Orchestration& orchestration, Clock::time_point deadline,
                   double& best);

}  // namespace mlops::examples::pipeline
