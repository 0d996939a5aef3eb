// What makes one Producer safe to share between threads costs on the single-thread path,
// measured against the same run: each iteration times one pass through a producer made
// with its sharing safeguards (as every producer is) and one through a producer made
// without them (a switch only benchmarks may turn), their order alternating, so both meet
// the same state of this shared machine. Reported: shared_ns and unshared_ns per send, and
// shared_over_unshared (the target: at most 1.05).
//   inproc: the counters' owner check (topics take concurrent sends already; the topic
//           cache is an atomic pointer either way, a plain load on x86)
//   mmap:   the check that refuses calls overlapping from two threads (one thread at a time)
//   *IfLocked (context, no target): a lock around every send instead, as sharing an mmap
//           producer would need; how much that costs depends on how fast a send is
//   kafka:  the producer's lock around each call, on librdkafka's mock cluster; a pass sends
//           and flushes (acks=all)
// Report medians: --benchmark_repetitions=9 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <mlops/orchestration.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "orchestration/producer_sharing.h"

#if MLOPS_BENCH_KAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif

namespace {

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr std::size_t kPoolSize = 256;
constexpr std::int64_t kLocalPass = 4096;  // sends per pass, inproc and mmap
constexpr std::int64_t kKafkaPass = 2000;  // sends per pass (and one flush), kafka

// Distinct ~200 B messages, cycled through as a pipeline sends new ones.
std::vector<mes::MLOpsMessage> message_pool() {
  std::vector<mes::MLOpsMessage> pool;
  for (std::size_t i = 0; i < kPoolSize; ++i) {
    pool.push_back(mes::MessageBuilder()
                       .with_msg_type(mes::MessageType::START)
                       .with_creator("ETL")
                       .with_user_msg("Hello World" + std::string(120, 'x'))
                       .with_retries(static_cast<std::int32_t>(i))
                       .build());
  }
  return pool;
}

/// A producer made with producer sharing on or off.
orc::Producer make_producer(const orc::Orchestration& orch, const std::string& topic, bool shared,
                            orc::ProducerOptions options = {}) {
  orc::detail::set_producer_sharing_for_benchmarks(shared);
  auto made = orc::Producer::create(orch, topic, std::move(options));
  orc::detail::set_producer_sharing_for_benchmarks(true);
  if (!made) std::abort();
  return std::move(*made);
}

/// Times `count` sends through `producer`, cycling through `pool` from `next`.
Seconds send_pass(orc::Producer& producer, const std::vector<mes::MLOpsMessage>& pool,
                  std::size_t& next, std::int64_t count) {
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < count; ++i) {
    if (producer.send(pool[next++ % pool.size()]) != orc::Status::kOk) std::abort();
  }
  return Clock::now() - start;
}

/// Times `count` sends through `producer`, each under an uncontended `mutex`.
Seconds locked_send_pass(orc::Producer& producer, const std::vector<mes::MLOpsMessage>& pool,
                         std::size_t& next, std::int64_t count, std::mutex& mutex) {
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < count; ++i) {
    const std::lock_guard lock(mutex);
    if (producer.send(pool[next++ % pool.size()]) != orc::Status::kOk) std::abort();
  }
  return Clock::now() - start;
}

/// Runs `pass(shared)` both ways per iteration, alternating which goes first, and reports
/// per-send times and their ratio.
template <typename Pass>
void paired(benchmark::State& state, std::int64_t per_pass, Pass pass) {
  Seconds shared{};
  Seconds unshared{};
  std::int64_t rounds = 0;
  for (auto _ : state) {
    if (rounds++ % 2 == 0) {
      unshared += pass(false);
      shared += pass(true);
    } else {
      shared += pass(true);
      unshared += pass(false);
    }
  }
  const double sends = static_cast<double>(rounds * per_pass);
  state.counters["shared_ns"] = shared.count() / sends * 1e9;
  state.counters["unshared_ns"] = unshared.count() / sends * 1e9;
  state.counters["shared_over_unshared"] = shared.count() / unshared.count();
  state.SetItemsProcessed(rounds * per_pass * 2);
}

/// An inproc topic with a consumer that empties it between passes (untimed).
struct InprocTopic {
  orc::Orchestration orch;
  orc::Consumer consumer;
  std::vector<mes::MLOpsMessage> out;

  static orc::Orchestration fresh() {
    static int broker = 0;
    return orc::Orchestration::from_uri("inproc://sharing-" + std::to_string(broker++) +
                                        "?max_messages=16384")
        .value();
  }
  InprocTopic() : orch(fresh()), consumer(orc::Consumer::create("bench", orch).value()) {}

  void drain() {
    for (std::int64_t got = 0; got < kLocalPass;) {
      if (consumer.receive(out, {}, std::chrono::seconds(5), 16384) != orc::Status::kOk)
        std::abort();
      got += static_cast<std::int64_t>(out.size());
    }
    if (consumer.commit() != orc::Status::kOk) std::abort();
  }
};

void BM_Sharing_Inproc(benchmark::State& state) {
  InprocTopic topic;
  auto shared = make_producer(topic.orch, "bench", true);
  auto unshared = make_producer(topic.orch, "bench", false);
  const auto pool = message_pool();
  std::size_t next = 0;
  paired(state, kLocalPass, [&](bool is_shared) {
    const auto took = send_pass(is_shared ? shared : unshared, pool, next, kLocalPass);
    topic.drain();
    return took;
  });
}
BENCHMARK(BM_Sharing_Inproc)->UseRealTime();

// Context, no target: what a lock around every send would cost a fast path (the "shared"
// pass takes an uncontended std::mutex around each send of the same producer).
void BM_Sharing_InprocIfLocked(benchmark::State& state) {
  InprocTopic topic;
  auto producer = make_producer(topic.orch, "bench", false);
  const auto pool = message_pool();
  std::size_t next = 0;
  std::mutex mutex;
  paired(state, kLocalPass, [&](bool locked) {
    const auto took = locked ? locked_send_pass(producer, pool, next, kLocalPass, mutex)
                             : send_pass(producer, pool, next, kLocalPass);
    topic.drain();
    return took;
  });
}
BENCHMARK(BM_Sharing_InprocIfLocked)->UseRealTime();

void BM_Sharing_Mmap(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mlops-sharing-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    const auto orch = orc::Orchestration::from_uri("mmap://" + dir.string() + "?segment_bytes=" +
                                                   std::to_string(std::uint64_t{64} << 20))
                          .value();
    auto shared = make_producer(orch, "bench", true);
    auto unshared = make_producer(orch, "bench", false);
    const auto pool = message_pool();
    std::size_t next = 0;
    paired(state, kLocalPass, [&](bool is_shared) {
      return send_pass(is_shared ? shared : unshared, pool, next, kLocalPass);
    });
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Sharing_Mmap)->UseRealTime();

// Context for the choice above, no target: what a lock around every mmap send would cost
// (the "shared" pass takes an uncontended std::mutex around each send of the same producer).
void BM_Sharing_MmapIfLocked(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mlops-sharing-bench-locked-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    const auto orch = orc::Orchestration::from_uri("mmap://" + dir.string() + "?segment_bytes=" +
                                                   std::to_string(std::uint64_t{64} << 20))
                          .value();
    auto producer = make_producer(orch, "bench", false);
    const auto pool = message_pool();
    std::size_t next = 0;
    std::mutex mutex;
    paired(state, kLocalPass, [&](bool locked) {
      return locked ? locked_send_pass(producer, pool, next, kLocalPass, mutex)
                    : send_pass(producer, pool, next, kLocalPass);
    });
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Sharing_MmapIfLocked)->UseRealTime();

#if MLOPS_BENCH_KAFKA
/// One librdkafka mock cluster for the run.
class Mock {
 public:
  static Mock& get() {
    static Mock mock;
    return mock;
  }
  [[nodiscard]] std::string bootstraps() const {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  void create_topic(const std::string& topic) const {
    (void)rd_kafka_mock_topic_create(cluster_, topic.c_str(), 1, 1);
  }

 private:
  Mock() {
    std::array<char, 256> error{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    (void)rd_kafka_conf_set(conf, "log_level", "0", error.data(), error.size());
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
    if (handle_ == nullptr) std::abort();
    cluster_ = rd_kafka_mock_cluster_new(handle_, 1);
    if (cluster_ == nullptr) std::abort();
  }
  ~Mock() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

void BM_Sharing_Kafka(benchmark::State& state) {
  static int topics = 0;
  const auto orch = orc::Orchestration::from_uri("kafka://" + Mock::get().bootstraps()).value();
  // A topic per producer, fresh for each run: the mock keeps about 5 MB a partition.
  const auto topic = [&](const char* kind) {
    auto name = std::string("sharing-") + kind + "-" + std::to_string(topics++);
    Mock::get().create_topic(name);
    return name;
  };
  auto shared = make_producer(orch, topic("shared"), true);
  auto unshared = make_producer(orch, topic("unshared"), false);
  const auto pool = message_pool();
  std::size_t next = 0;
  paired(state, kKafkaPass, [&](bool is_shared) {
    auto& producer = is_shared ? shared : unshared;
    const auto start = Clock::now();
    (void)send_pass(producer, pool, next, kKafkaPass);
    if (producer.flush(std::chrono::seconds(30)) != orc::Status::kOk) std::abort();
    return Seconds(Clock::now() - start);
  });
}
BENCHMARK(BM_Sharing_Kafka)->UseRealTime()->Iterations(20);
#endif

}  // namespace

BENCHMARK_MAIN();
