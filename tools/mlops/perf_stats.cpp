#include "perf_stats.h"

#include <algorithm>
#include <cstdio>

#include "cli.h"

namespace mlops::tool {

Timeline::Timeline(std::size_t seconds)
    : sent_(std::max<std::size_t>(seconds, 1)), received_(std::max<std::size_t>(seconds, 1)) {}

std::size_t Timeline::bucket(std::int64_t elapsed_ns) const noexcept {
  const auto second =
      static_cast<std::size_t>(std::max<std::int64_t>(elapsed_ns, 0) / kTimelineBucketNs);
  return std::min(second, sent_.size() - 1);
}

void Timeline::add_sent(std::int64_t elapsed_ns) noexcept {
  sent_[bucket(elapsed_ns)].fetch_add(1, std::memory_order_relaxed);
}
void Timeline::add_received(std::int64_t elapsed_ns) noexcept {
  received_[bucket(elapsed_ns)].fetch_add(1, std::memory_order_relaxed);
}

namespace {
std::vector<std::uint64_t> trimmed(const std::vector<std::atomic<std::uint64_t>>& a,
                                   const std::vector<std::atomic<std::uint64_t>>& b,
                                   const std::vector<std::atomic<std::uint64_t>>& which) {
  std::size_t used = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].load() != 0 || b[i].load() != 0) used = i + 1;
  }
  std::vector<std::uint64_t> out(used);
  for (std::size_t i = 0; i < used; ++i) out[i] = which[i].load();
  return out;
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string millis(std::int64_t ns) {
  char text[64];
  std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(ns) / 1e6);
  return text;
}

std::string list(const std::vector<std::uint64_t>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

double rate(std::uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}
}  // namespace

std::vector<std::uint64_t> Timeline::sent() const { return trimmed(sent_, received_, sent_); }
std::vector<std::uint64_t> Timeline::received() const {
  return trimmed(sent_, received_, received_);
}

void finish(PerfResult& result) {
  std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
}

std::int64_t percentile(const PerfResult& result, double q) {
  if (result.latencies_ns.empty()) return 0;
  const auto last = result.latencies_ns.size() - 1;
  const auto index = std::min(last, static_cast<std::size_t>(q * static_cast<double>(last) + 0.5));
  return result.latencies_ns[index];
}

std::string text_summary(const PerfResult& r) {
  const double mb = static_cast<double>(r.size) / 1e6;
  char line[512];
  std::string out;
  std::snprintf(
      line, sizeof line,
      "perf %s topic %s: %llu producer(s) (%s), %llu consumer(s), %llu-byte messages, rate %s\n",
      r.uri.c_str(), r.topic.c_str(), static_cast<unsigned long long>(r.producers), r.mode.c_str(),
      static_cast<unsigned long long>(r.consumers), static_cast<unsigned long long>(r.size),
      r.rate ? (std::to_string(r.rate) + " msgs/s").c_str() : "flat out");
  out += line;
  std::snprintf(
      line, sizeof line,
      "sent      %llu msgs in %.3f s: %.0f msgs/s, %.2f MB/s; errors %llu, back-pressured %llu\n",
      static_cast<unsigned long long>(r.sent), r.send_seconds, rate(r.sent, r.send_seconds),
      rate(r.sent, r.send_seconds) * mb, static_cast<unsigned long long>(r.errors),
      static_cast<unsigned long long>(r.back_pressured));
  out += line;
  std::snprintf(line, sizeof line,
                "received  %llu of %llu msgs in %.3f s: %.0f msgs/s, %.2f MB/s\n",
                static_cast<unsigned long long>(r.received),
                static_cast<unsigned long long>(r.expected), r.receive_seconds,
                rate(r.received, r.receive_seconds), rate(r.received, r.receive_seconds) * mb);
  out += line;
  out += "latency   p50 " + millis(percentile(r, 0.5)) + "  p90 " + millis(percentile(r, 0.9)) +
         "  p99 " + millis(percentile(r, 0.99)) + "  p99.9 " + millis(percentile(r, 0.999)) +
         "  max " + millis(r.latencies_ns.empty() ? 0 : r.latencies_ns.back()) + "\n";
  return out;
}

std::string json_summary(const PerfResult& r) {
  const double mb = static_cast<double>(r.size) / 1e6;
  return "{\"uri\":" + json_quote(r.uri) + ",\"topic\":" + json_quote(r.topic) +
         ",\"mode\":" + json_quote(r.mode) + ",\"size\":" + std::to_string(r.size) +
         ",\"producers\":" + std::to_string(r.producers) +
         ",\"consumers\":" + std::to_string(r.consumers) + ",\"rate\":" + std::to_string(r.rate) +
         ",\"sent\":" + std::to_string(r.sent) + ",\"received\":" + std::to_string(r.received) +
         ",\"expected\":" + std::to_string(r.expected) + ",\"errors\":" + std::to_string(r.errors) +
         ",\"back_pressured\":" + std::to_string(r.back_pressured) +
         ",\"send_seconds\":" + number(r.send_seconds) +
         ",\"receive_seconds\":" + number(r.receive_seconds) +
         ",\"sent_msgs_per_s\":" + number(rate(r.sent, r.send_seconds)) +
         ",\"sent_mb_per_s\":" + number(rate(r.sent, r.send_seconds) * mb) +
         ",\"received_msgs_per_s\":" + number(rate(r.received, r.receive_seconds)) +
         ",\"received_mb_per_s\":" + number(rate(r.received, r.receive_seconds) * mb) +
         ",\"latency_ms\":{\"p50\":" + number(static_cast<double>(percentile(r, 0.5)) / 1e6) +
         ",\"p90\":" + number(static_cast<double>(percentile(r, 0.9)) / 1e6) +
         ",\"p99\":" + number(static_cast<double>(percentile(r, 0.99)) / 1e6) +
         ",\"p99.9\":" + number(static_cast<double>(percentile(r, 0.999)) / 1e6) + ",\"max\":" +
         number(r.latencies_ns.empty() ? 0.0 : static_cast<double>(r.latencies_ns.back()) / 1e6) +
         "}}";
}

std::string plot_data(const PerfResult& r, std::size_t max_samples) {
  std::string out = "{\"summary\":" + json_summary(r) +
                    ",\"bucket_seconds\":" + number(static_cast<double>(kTimelineBucketNs) / 1e9) +
                    ",\"sent_per_bucket\":" + list(r.sent_per_second) +
                    ",\"received_per_bucket\":" + list(r.received_per_second) + ",\"latency_ms\":[";
  const std::size_t n = r.latencies_ns.size();
  const std::size_t step =
      n > max_samples && max_samples > 0 ? (n + max_samples - 1) / max_samples : 1;
  bool first = true;
  for (std::size_t i = 0; i < n; i += step) {
    out += (first ? "" : ",") + number(static_cast<double>(r.latencies_ns[i]) / 1e6);
    first = false;
  }
  return out + "]}\n";
}

}  // namespace mlops::tool
