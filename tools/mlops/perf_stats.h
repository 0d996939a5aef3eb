#pragma once
// What `mlops perf` measures and how it reports it: counts, a per-second timeline,
// latency percentiles, the text and JSON summaries, and the data file the plot script reads.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace mlops::tool {

/// The timeline's resolution: 100 ms, so a run of a second still draws a curve.
inline constexpr std::int64_t kTimelineBucketNs = 100'000'000;

/// Per-bucket (kTimelineBucketNs) counts of a run, shared by producer and consumer threads.
class Timeline {
 public:
  /// Room for `buckets` buckets (later events land in the last).
  explicit Timeline(std::size_t buckets);
  void add_sent(std::int64_t elapsed_ns) noexcept;
  void add_received(std::int64_t elapsed_ns) noexcept;
  /// Sent and received per bucket, up to the last bucket that saw either.
  [[nodiscard]] std::vector<std::uint64_t> sent() const;
  [[nodiscard]] std::vector<std::uint64_t> received() const;

 private:
  std::size_t bucket(std::int64_t elapsed_ns) const noexcept;
  std::vector<std::atomic<std::uint64_t>> sent_;
  std::vector<std::atomic<std::uint64_t>> received_;
};

/// Everything one run found.
struct PerfResult {
  std::string uri, topic, mode;
  std::uint64_t size = 0, producers = 0, consumers = 0, rate = 0;
  std::uint64_t sent = 0, received = 0, errors = 0, back_pressured = 0, expected = 0;
  double send_seconds = 0, receive_seconds = 0;
  std::vector<std::int64_t> latencies_ns;                           ///< sorted by finish()
  std::vector<std::uint64_t> sent_per_second, received_per_second;  ///< per kTimelineBucketNs
};

/// Sorts the latencies.
void finish(PerfResult& result);
/// The latency at quantile q (0..1) in ns; 0 without samples.
std::int64_t percentile(const PerfResult& result, double q);
/// The human summary, several lines.
std::string text_summary(const PerfResult& result);
/// One JSON object (no per-message data).
std::string json_summary(const PerfResult& result);
/// The plot script's input: the summary plus latencies (at most `max_samples`, evenly
/// spaced in sorted order) and the timeline.
std::string plot_data(const PerfResult& result, std::size_t max_samples);

}  // namespace mlops::tool
