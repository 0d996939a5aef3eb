// inproc against a plain SPSC ring moving the same bytes, in the same run:
//   throughput 1->1 and 2->2 (messages/s and bytes/s) at 200 B and 2 KB;
//   round-trip latency p50/p99/p99.9 from a histogram (ping-pong; inproc consumers block in
//   receive with a timeout), beside the ring (which spins).
// 2->2 is two producers and two competing consumers on one inproc topic, against two
// independent rings; and, like for like with the rings, two pairs each on a topic of its own.
// Report medians: --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <mlops/orchestration.h>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kPoolSize = 256;
constexpr std::size_t kMessagesPerIteration = 200'000;
constexpr std::size_t kLatencyRounds = 20'000;
constexpr std::size_t kCacheLine = 64;

// kPoolSize distinct messages of about `size` bytes (distinct buffers, so reference counts
// do not all share one cache line).
std::vector<mes::MLOpsMessage> message_pool(std::size_t size) {
  std::vector<mes::MLOpsMessage> pool;
  const auto base = mes::MessageBuilder()
                        .with_msg_type(mes::MessageType::START)
                        .with_creator_type("ETL")
                        .with_creator("ETL")
                        .with_user_msg("Hello World")
                        .with_next_task("Train")
                        .build()
                        .bytes()
                        .size();
  const std::size_t padding = size > base + 8 ? size - base - 8 : 0;
  for (std::size_t i = 0; i < kPoolSize; ++i) {
    pool.push_back(mes::MessageBuilder()
                       .with_msg_type(mes::MessageType::START)
                       .with_creator_type("ETL")
                       .with_creator("ETL")
                       .with_user_msg("Hello World" + std::string(padding, 'x'))
                       .with_next_task("Train")
                       .with_retries(static_cast<std::int32_t>(i))
                       .build());
  }
  return pool;
}

// The baseline: a bounded single-producer single-consumer ring of fixed-size slots
// (rigtorp/SPSCQueue's design: cached indices, each on its own cache line). push copies
// the bytes in, pop copies them out.
class SpscRing {
 public:
  SpscRing(std::size_t slots, std::size_t slot_bytes)
      : mask_(std::bit_ceil(slots) - 1),
        slot_bytes_(slot_bytes),
        sizes_(mask_ + 1),
        data_(std::make_unique<std::uint8_t[]>((mask_ + 1) * slot_bytes)) {}

  bool push(std::span<const std::uint8_t> bytes) noexcept {
    const auto head = head_.load(std::memory_order_relaxed);
    if (head - cached_tail_ > mask_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head - cached_tail_ > mask_) return false;
    }
    const auto slot = head & mask_;
    sizes_[slot] = bytes.size();
    std::memcpy(&data_[slot * slot_bytes_], bytes.data(), bytes.size());
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  /// Copies the oldest entry into `out`; returns its size, or 0 when empty.
  std::size_t pop(std::uint8_t* out) noexcept {
    const auto tail = tail_.load(std::memory_order_relaxed);
    if (tail == cached_head_) {
      cached_head_ = head_.load(std::memory_order_acquire);
      if (tail == cached_head_) return 0;
    }
    const auto slot = tail & mask_;
    const auto size = sizes_[slot];
    std::memcpy(out, &data_[slot * slot_bytes_], size);
    tail_.store(tail + 1, std::memory_order_release);
    return size;
  }

 private:
  const std::size_t mask_;
  const std::size_t slot_bytes_;
  std::vector<std::size_t> sizes_;
  std::unique_ptr<std::uint8_t[]> data_;
  alignas(kCacheLine) std::atomic<std::size_t> head_{0};
  alignas(kCacheLine) std::size_t cached_tail_ = 0;
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0};
  alignas(kCacheLine) std::size_t cached_head_ = 0;
};

// Log-linear latency histogram: 32 sub-buckets per power of two (about 3% precision).
class LatencyHistogram {
 public:
  void record(std::uint64_t ns) noexcept {
    ++counts_[index(ns)];
    ++total_;
  }
  [[nodiscard]] double percentile(double p) const noexcept {
    const auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(total_));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > rank) return static_cast<double>(lower_bound(i));
    }
    return 0;
  }

 private:
  static constexpr int kSubBits = 5;
  static std::size_t index(std::uint64_t ns) noexcept {
    if (ns < (1u << kSubBits)) return ns;
    const int msb = 63 - std::countl_zero(ns);
    const auto sub = (ns >> (msb - kSubBits)) & ((1u << kSubBits) - 1);
    return (static_cast<std::size_t>(msb - kSubBits + 1) << kSubBits) + sub;
  }
  static std::uint64_t lower_bound(std::size_t i) noexcept {
    if (i < (1u << kSubBits)) return i;
    const auto msb = static_cast<int>(i >> kSubBits) + kSubBits - 1;
    const auto sub = i & ((1u << kSubBits) - 1);
    return (std::uint64_t{1} << msb) | (sub << (msb - kSubBits));
  }
  std::array<std::uint64_t, 64 << kSubBits> counts_{};
  std::uint64_t total_ = 0;
};

// A broker name never used before in this process (Google Benchmark calls each function
// several times, and a named broker keeps its groups and what they left uncommitted).
std::string fresh_uri(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return "inproc://" + prefix + "-" + std::to_string(counter.fetch_add(1));
}

// When the last consumer got its last message: a throughput iteration's end. (Joining the
// threads would also count a consumer that, with nothing left, sleeps out its receive
// timeout.)
class LastArrival {
 public:
  void mark() noexcept {
    const auto now = Clock::now().time_since_epoch().count();
    auto seen = latest_.load(std::memory_order_relaxed);
    while (seen < now && !latest_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
  }
  /// Seconds from `start` to the last mark (to now if nobody marked: a failed iteration).
  [[nodiscard]] double seconds_since(Clock::time_point start) const noexcept {
    const auto latest = latest_.load(std::memory_order_relaxed);
    const auto end = latest == 0 ? Clock::now() : Clock::time_point(Clock::duration(latest));
    return std::chrono::duration<double>(end - start).count();
  }

 private:
  std::atomic<Clock::rep> latest_{0};
};

void set_throughput(benchmark::State& state, std::size_t messages, std::size_t bytes_each) {
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
  state.SetBytesProcessed(static_cast<std::int64_t>(messages * bytes_each));
}

void set_latency(benchmark::State& state, const LatencyHistogram& histogram) {
  state.counters["rtt_p50_ns"] = histogram.percentile(50);
  state.counters["rtt_p99_ns"] = histogram.percentile(99);
  state.counters["rtt_p99.9_ns"] = histogram.percentile(99.9);
}

// ---- throughput ---------------------------------------------------------------------

// range(0): message size; range(1): producer/consumer pairs.
void BM_Ring_Throughput(benchmark::State& state) {
  const auto pool = message_pool(static_cast<std::size_t>(state.range(0)));
  const auto pairs = static_cast<std::size_t>(state.range(1));
  const auto bytes_each = pool[0].bytes().size();
  const auto per_pair = kMessagesPerIteration / pairs;
  std::uint64_t checksum = 0;
  std::size_t moved = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<SpscRing>> rings;
    for (std::size_t p = 0; p < pairs; ++p)
      rings.push_back(std::make_unique<SpscRing>(4096, bytes_each));
    std::atomic<std::uint64_t> sum{0};
    LastArrival last;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < pairs; ++p) {
      threads.emplace_back([&, p] {
        for (std::size_t i = 0; i < per_pair; ++i) {
          while (!rings[p]->push(pool[i % kPoolSize].bytes())) std::this_thread::yield();
        }
      });
      threads.emplace_back([&, p] {
        std::vector<std::uint8_t> buffer(bytes_each);
        std::uint64_t local = 0;
        for (std::size_t got = 0; got < per_pair;) {
          const auto size = rings[p]->pop(buffer.data());
          if (size == 0) {
            std::this_thread::yield();
            continue;
          }
          local += size + buffer[size - 1];
          ++got;
        }
        last.mark();
        sum.fetch_add(local);
      });
    }
    for (auto& t : threads) t.join();
    state.SetIterationTime(last.seconds_since(start));
    checksum += sum.load();
    moved += per_pair * pairs;
  }
  benchmark::DoNotOptimize(checksum);
  set_throughput(state, moved, bytes_each);
}

// `topic_per_pair`: pair p uses topic "bench-p" (as the rings do); otherwise every pair
// shares one topic, its consumers competing in one group.
void inproc_throughput(benchmark::State& state, bool topic_per_pair) {
  const auto pairs = static_cast<std::size_t>(state.range(1));
  const auto topic_of = [&](std::size_t p) {
    return topic_per_pair ? "bench-" + std::to_string(p) : std::string("bench");
  };
  // A pool per producer, as each stage sends messages of its own (two producers sending the
  // very same message objects would fight over their reference counts).
  std::vector<std::vector<mes::MLOpsMessage>> pools;
  for (std::size_t p = 0; p < pairs; ++p)
    pools.push_back(message_pool(static_cast<std::size_t>(state.range(0))));
  const auto bytes_each = pools[0][0].bytes().size();
  const auto per_pair = kMessagesPerIteration / pairs;
  const auto total = per_pair * pairs;
  std::uint64_t checksum = 0;
  std::size_t moved = 0;
  std::size_t receives = 0;
  for (auto _ : state) {
    // The same bound as the rings: 4096 messages in flight.
    const auto orch =
        orc::Orchestration::from_uri(fresh_uri("throughput") + "?max_messages=4096").value();
    // Members of one group share the messages: pairs producers feed pairs competing consumers.
    std::vector<orc::Consumer> consumers;
    for (std::size_t p = 0; p < pairs; ++p) {
      consumers.push_back(orc::Consumer::create(topic_of(p), orch, {.group = "bench"}).value());
    }
    std::atomic<std::size_t> received{0};
    std::atomic<std::size_t> batches{0};
    std::atomic<std::uint64_t> sum{0};
    std::atomic<bool> failed{false};
    LastArrival last;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < pairs; ++p) {
      threads.emplace_back([&, p] {
        auto producer = orc::Producer::create(orch, topic_of(p), {.send_timeout = 10s}).value();
        const auto& pool = pools[p];
        for (std::size_t i = 0; i < per_pair; ++i) {
          if (producer.send(pool[i % kPoolSize]) != orc::Status::kOk) failed = true;
        }
      });
      threads.emplace_back([&, p] {
        std::vector<mes::MLOpsMessage> out;
        std::uint64_t local = 0;
        std::size_t got = 0;
        // A consumer of its own topic waits for its pair's messages; competing consumers
        // for everyone's.
        const auto done = [&] {
          return topic_per_pair ? got >= per_pair
                                : received.load(std::memory_order_relaxed) >= total;
        };
        const auto deadline = Clock::now() + 60s;
        while (!done() && Clock::now() < deadline) {
          if (consumers[p].receive(out, {}, 10ms) != orc::Status::kOk) continue;
          for (const auto& m : out) local += m.bytes().size() + m.bytes().back();
          got += out.size();
          received.fetch_add(out.size(), std::memory_order_relaxed);
          batches.fetch_add(1, std::memory_order_relaxed);
          if (done()) last.mark();
        }
        sum.fetch_add(local);
      });
    }
    for (auto& t : threads) t.join();
    state.SetIterationTime(last.seconds_since(start));
    if (failed || received.load() != total) {
      state.SkipWithError(("inproc lost or refused messages: received " +
                           std::to_string(received.load()) + " of " + std::to_string(total) +
                           (failed ? ", a send failed" : ""))
                              .c_str());
    }
    checksum += sum.load();
    moved += total;
    receives += batches.load();
  }
  benchmark::DoNotOptimize(checksum);
  set_throughput(state, moved, bytes_each);
  state.counters["msgs_per_receive"] = static_cast<double>(moved) / static_cast<double>(receives);
}

void BM_Inproc_Throughput(benchmark::State& state) { inproc_throughput(state, false); }
void BM_Inproc_ThroughputTopicPerPair(benchmark::State& state) { inproc_throughput(state, true); }

// ---- the failure paths' cost to the happy path (issue 17) -----------------------------

// One thread sends 100,000 messages into a fresh topic, then receives them all in batches
// of 64, twice per iteration: once with the failure paths on (retries read from
// `<topic>.retry`, corrupt payloads dead-lettered: the defaults) and once with them off
// (max_retries = 0, dead_letter_corrupt = false). The two alternate within each iteration,
// so load on the machine hits both alike; the counters give each one's nanoseconds per
// received message and their ratio (on / off). Receiving alone is timed.
double receive_seconds(const orc::Orchestration& orch, const std::string& topic,
                       const orc::ConsumerOptions& options,
                       const std::vector<mes::MLOpsMessage>& pool, std::size_t count) {
  auto consumer = orc::Consumer::create(topic, orch, options).value();
  auto producer = orc::Producer::create(orch, topic).value();
  for (std::size_t i = 0; i < count; ++i) (void)producer.send(pool[i % pool.size()]);
  std::vector<mes::MLOpsMessage> out;
  std::size_t got = 0;
  const auto deadline = Clock::now() + 60s;
  const auto start = Clock::now();
  while (got < count && Clock::now() < deadline) {
    if (consumer.receive(out, {}, 10ms, 64) == orc::Status::kOk) got += out.size();
  }
  const auto seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return got == count ? seconds : -1.0;
}

void BM_Inproc_ReceiveFailurePathsOnVsOff(benchmark::State& state) {
  constexpr std::size_t kCount = 100'000;
  const auto pool = message_pool(200);
  const orc::ConsumerOptions on{.group = "stage", .max_batch = 64};
  orc::ConsumerOptions off = on;
  off.max_retries = 0;
  off.dead_letter_corrupt = false;
  double seconds_on = 0;
  double seconds_off = 0;
  int round = 0;
  for (auto _ : state) {
    const auto orch =
        orc::Orchestration::from_uri(fresh_uri("failure-paths") + "?max_messages=200000").value();
    // Alternate which goes first, so neither always runs on a warmer cache.
    const bool on_first = (round++ % 2) == 0;
    const double first = receive_seconds(orch, "a", on_first ? on : off, pool, kCount);
    const double second = receive_seconds(orch, "b", on_first ? off : on, pool, kCount);
    if (first < 0 || second < 0) {
      state.SkipWithError("a receive lost messages or ran past its deadline");
      return;
    }
    seconds_on += on_first ? first : second;
    seconds_off += on_first ? second : first;
    state.SetIterationTime(first + second);
  }
  const auto messages = static_cast<double>(kCount) * static_cast<double>(state.iterations());
  state.counters["on_ns_per_msg"] = seconds_on * 1e9 / messages;
  state.counters["off_ns_per_msg"] = seconds_off * 1e9 / messages;
  state.counters["on_vs_off"] = seconds_on / seconds_off;
}

// ---- round-trip latency (ping-pong) ---------------------------------------------------

void BM_Ring_RoundTrip(benchmark::State& state) {
  const auto pool = message_pool(static_cast<std::size_t>(state.range(0)));
  const auto bytes_each = pool[0].bytes().size();
  LatencyHistogram histogram;
  std::size_t rounds = 0;
  for (auto _ : state) {
    SpscRing ping(1024, bytes_each);
    SpscRing pong(1024, bytes_each);
    std::thread echo([&] {
      std::vector<std::uint8_t> buffer(bytes_each);
      for (std::size_t i = 0; i < kLatencyRounds; ++i) {
        std::size_t size = 0;
        while ((size = ping.pop(buffer.data())) == 0) {
        }
        while (!pong.push({buffer.data(), size})) {
        }
      }
    });
    std::vector<std::uint8_t> buffer(bytes_each);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kLatencyRounds; ++i) {
      const auto sent = Clock::now();
      while (!ping.push(pool[i % kPoolSize].bytes())) {
      }
      while (pong.pop(buffer.data()) == 0) {
      }
      histogram.record(static_cast<std::uint64_t>((Clock::now() - sent).count()));
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    echo.join();
    rounds += kLatencyRounds;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rounds));
  set_latency(state, histogram);
}

// range(1): receive timeout in ms.
void BM_Inproc_RoundTrip(benchmark::State& state) {
  const auto pool = message_pool(static_cast<std::size_t>(state.range(0)));
  const auto timeout = std::chrono::milliseconds(state.range(1));
  LatencyHistogram histogram;
  std::size_t rounds = 0;
  for (auto _ : state) {
    const auto orch = orc::Orchestration::from_uri(fresh_uri("round-trip")).value();
    auto ping_in = orc::Consumer::create("ping", orch).value();
    auto pong_in = orc::Consumer::create("pong", orch).value();
    std::thread echo([&] {
      auto out = orc::Producer::create(orch, "pong").value();
      std::vector<mes::MLOpsMessage> got;
      for (std::size_t i = 0; i < kLatencyRounds;) {
        if (ping_in.receive(got, {}, timeout, 1) != orc::Status::kOk) continue;
        (void)out.send(got[0]);
        ++i;
      }
    });
    auto out = orc::Producer::create(orch, "ping").value();
    std::vector<mes::MLOpsMessage> got;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kLatencyRounds; ++i) {
      const auto sent = Clock::now();
      (void)out.send(pool[i % kPoolSize]);
      while (pong_in.receive(got, {}, timeout, 1) != orc::Status::kOk) {
      }
      histogram.record(static_cast<std::uint64_t>((Clock::now() - sent).count()));
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    echo.join();
    rounds += kLatencyRounds;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rounds));
  set_latency(state, histogram);
}

}  // namespace

BENCHMARK(BM_Ring_Throughput)
    ->ArgsProduct({{200, 2048}, {1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Inproc_Throughput)
    ->ArgsProduct({{200, 2048}, {1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Inproc_ThroughputTopicPerPair)
    ->ArgsProduct({{200, 2048}, {2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Inproc_ReceiveFailurePathsOnVsOff)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring_RoundTrip)->Arg(200)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Inproc_RoundTrip)->Args({200, 100})->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
