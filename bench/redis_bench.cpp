// The redis backend beside raw hiredis doing the same commands with the same pipelining, on
// one redis-server this benchmark starts (127.0.0.1, a temporary directory, no persistence so
// that the disk does not drown the client's costs), in the same run: produce and consume,
// 200 B and 2 KB messages, wall-clock time.
//
// Produce: one pass sends kBatch messages to a fresh stream and waits for every reply.
//   library: Producer::send_to() per message, then flush() (defaults: each send writes its XADD
//            at once; replies are read every 64 sends, whatever is in, and by flush()).
//   raw:     the same XADD topic * m <bytes> per message: redisAppendCommandArgv, one
//            non-blocking write, and every 64 messages the replies already in; then the rest.
// Consume: one pass reads kBatch messages a group has not seen, in batches of 256, each
//   batch acknowledged before the next is read.
//   library: Consumer::receive() with auto_commit (XACK of the previous batch, then
//            XREADGROUP COUNT 256); it also verifies every message. Group setup not timed.
//   raw:     XREADGROUP GROUP g c COUNT 256 STREAMS topic >, then XACK of the batch's ids.
// Paired: each iteration runs one raw pass and one library pass back to back, their order
// alternating, so both meet the same state of this shared machine; counters raw_per_second,
// mlops_per_second and mlops_over_raw (raw time / library time over all passes).
#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>
#include <mlops/orchestration.h>
#include <poll.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/redis_server.h"

namespace {

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using Seconds = std::chrono::duration<double>;
using SteadyClock = std::chrono::steady_clock;

constexpr std::int64_t kBatch = 10'000;
constexpr std::size_t kPipeline = 64;    // the library's pipeline_messages default
constexpr std::size_t kReadCount = 256;  // ConsumerOptions::max_batch's default

/// The server of the whole run.
mlops::testing::RedisServer& server() {
  static mlops::testing::RedisServer redis("appendonly no\n");
  static const bool started = redis.start();
  (void)started;
  return redis;
}

std::string next_topic(const char* kind) {
  static int counter = 0;
  return std::string(kind) + "-" + std::to_string(counter++);
}

mes::MLOpsMessage message_of(std::size_t bytes, std::int64_t number) {
  const auto empty = mes::MessageBuilder().with_creator("bench").with_user_msg("").build();
  const std::size_t fill = bytes > empty.bytes().size() + 8 ? bytes - empty.bytes().size() - 8 : 0;
  return mes::MessageBuilder()
      .with_creator("bench")
      .with_retries(static_cast<std::int32_t>(number))
      .with_user_msg(std::string(fill, 'x'))
      .build();
}

std::vector<mes::MLOpsMessage> pool_of(std::size_t bytes) {
  std::vector<mes::MLOpsMessage> pool;
  for (std::int64_t i = 0; i < 256; ++i) pool.push_back(message_of(bytes, i));
  return pool;
}

/// A raw hiredis connection (blocking context; reads only what poll() says is there).
class Raw {
 public:
  Raw() : context_(redisConnect("127.0.0.1", server().port())) {}
  ~Raw() { redisFree(context_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  [[nodiscard]] bool ok() const { return context_ != nullptr && context_->err == 0; }
  redisContext* get() { return context_; }
  /// Takes every reply already in (non-blocking). @return replies taken, -1 on error.
  long take_ready() {
    long taken = 0;
    for (;;) {
      void* reply = nullptr;
      if (redisGetReplyFromReader(context_, &reply) != REDIS_OK) return -1;
      if (reply != nullptr) {
        freeReplyObject(reply);
        ++taken;
        continue;
      }
      pollfd fd{context_->fd, POLLIN, 0};
      if (::poll(&fd, 1, 0) <= 0) return taken;
      if (redisBufferRead(context_) != REDIS_OK) return -1;
    }
  }
  void command(const char* text) { freeReplyObject(redisCommand(context_, text)); }

 private:
  redisContext* context_;
};

std::optional<Seconds> raw_produce(Raw& raw, const std::vector<mes::MLOpsMessage>& pool) {
  const std::string topic = next_topic("raw-produce");
  long awaited = 0;
  const auto start = SteadyClock::now();
  for (std::int64_t i = 0; i < kBatch; ++i) {
    const auto bytes = pool[static_cast<std::size_t>(i) % pool.size()].bytes();
    const char* argv[] = {"XADD", topic.c_str(), "*", "m",
                          reinterpret_cast<const char*>(bytes.data())};
    const std::size_t lens[] = {4, topic.size(), 1, 1, bytes.size()};
    if (redisAppendCommandArgv(raw.get(), 5, argv, lens) != REDIS_OK) return std::nullopt;
    int done = 0;
    if (redisBufferWrite(raw.get(), &done) != REDIS_OK) return std::nullopt;
    ++awaited;
    if (static_cast<std::size_t>(i + 1) % kPipeline == 0) {
      const long taken = raw.take_ready();
      if (taken < 0) return std::nullopt;
      awaited -= taken;
    }
  }
  for (; awaited > 0; --awaited) {
    void* reply = nullptr;
    if (redisGetReply(raw.get(), &reply) != REDIS_OK) return std::nullopt;
    freeReplyObject(reply);
  }
  const Seconds took = SteadyClock::now() - start;
  raw.command(("DEL " + topic).c_str());
  return took;
}

std::optional<Seconds> library_produce(orc::Producer& producer, Raw& raw,
                                       const std::vector<mes::MLOpsMessage>& pool) {
  const std::string topic = next_topic("mlops-produce");
  const auto start = SteadyClock::now();
  for (std::int64_t i = 0; i < kBatch; ++i) {
    if (producer.send_to(topic, pool[static_cast<std::size_t>(i) % pool.size()]) !=
        orc::Status::kOk) {
      return std::nullopt;
    }
  }
  if (producer.flush(std::chrono::seconds(30)) != orc::Status::kOk) return std::nullopt;
  const Seconds took = SteadyClock::now() - start;
  raw.command(("DEL " + topic).c_str());
  return took;
}

/// A stream of kBatch library messages, written untimed.
std::string filled_topic(const orc::Orchestration& orch,
                         const std::vector<mes::MLOpsMessage>& pool) {
  const std::string topic = next_topic("consume");
  auto producer = orc::Producer::create(orch, topic);
  if (!producer) return {};
  for (std::int64_t i = 0; i < kBatch; ++i) {
    if (producer->send(pool[static_cast<std::size_t>(i) % pool.size()]) != orc::Status::kOk)
      return {};
  }
  return producer->flush(std::chrono::seconds(30)) == orc::Status::kOk ? topic : std::string();
}

std::optional<Seconds> raw_consume(Raw& raw, const std::string& topic, std::uint64_t& checksum) {
  raw.command(("XGROUP CREATE " + topic + " g 0").c_str());
  std::int64_t got = 0;
  const auto start = SteadyClock::now();
  while (got < kBatch) {
    auto* reply = static_cast<redisReply*>(
        redisCommand(raw.get(), "XREADGROUP GROUP g c COUNT %d STREAMS %s >",
                     static_cast<int>(kReadCount), topic.c_str()));
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return std::nullopt;
    const redisReply& entries = *reply->element[0]->element[1];
    std::vector<const char*> argv = {"XACK", topic.c_str(), "g"};
    std::vector<std::size_t> lens = {4, topic.size(), 1};
    for (std::size_t i = 0; i < entries.elements; ++i) {
      const redisReply& entry = *entries.element[i];
      argv.push_back(entry.element[0]->str);
      lens.push_back(entry.element[0]->len);
      checksum += entry.element[1]->element[1]->len;
    }
    got += static_cast<std::int64_t>(entries.elements);
    auto* acked =
        redisCommandArgv(raw.get(), static_cast<int>(argv.size()), argv.data(), lens.data());
    freeReplyObject(reply);
    if (acked == nullptr) return std::nullopt;
    freeReplyObject(acked);
  }
  return Seconds(SteadyClock::now() - start);
}

std::optional<Seconds> library_consume(const orc::Orchestration& orch, const std::string& topic,
                                       std::uint64_t& checksum) {
  auto consumer = orc::Consumer::create(topic, orch, {.group = "g"});
  if (!consumer) return std::nullopt;
  std::vector<mes::MLOpsMessage> batch;
  std::int64_t got = 0;
  const auto start = SteadyClock::now();
  while (got < kBatch) {
    if (consumer->receive(batch, {}, std::chrono::seconds(5)) != orc::Status::kOk)
      return std::nullopt;
    for (const auto& message : batch) checksum += message.bytes().size();
    got += static_cast<std::int64_t>(batch.size());
  }
  if (consumer->commit() != orc::Status::kOk) return std::nullopt;
  return Seconds(SteadyClock::now() - start);
}

void report(benchmark::State& state, std::int64_t pairs, Seconds raw, Seconds mlops) {
  if (pairs == 0) return;
  const auto count = static_cast<double>(kBatch) * static_cast<double>(pairs);
  state.counters["raw_per_second"] = count / raw.count();
  state.counters["mlops_per_second"] = count / mlops.count();
  state.counters["mlops_over_raw"] = raw.count() / mlops.count();
}

template <typename RawPass, typename LibraryPass>
void paired(benchmark::State& state, RawPass raw_pass, LibraryPass library_pass) {
  Seconds raw_total{};
  Seconds library_total{};
  std::int64_t pairs = 0;
  bool raw_first = true;
  for (auto _ : state) {
    std::optional<Seconds> raw;
    std::optional<Seconds> library;
    if (raw_first) {
      raw = raw_pass();
      library = library_pass();
    } else {
      library = library_pass();
      raw = raw_pass();
    }
    raw_first = !raw_first;
    if (!raw || !library) {
      state.SkipWithError("a pass failed");
      return;
    }
    raw_total += *raw;
    library_total += *library;
    ++pairs;
    state.SetIterationTime((*raw + *library).count());
  }
  report(state, pairs, raw_total, library_total);
}

bool ready(benchmark::State& state, Raw& raw) {
  if (!server().running()) {
    state.SkipWithError("redis-server is not installed or did not start");
    return false;
  }
  if (!raw.ok()) {
    state.SkipWithError("hiredis could not connect");
    return false;
  }
  return true;
}

void BM_Paired_Produce(benchmark::State& state) {
  Raw raw;
  if (!ready(state, raw)) return;
  auto orch = orc::Orchestration::from_uri("redis://" + server().address());
  const auto pool = pool_of(static_cast<std::size_t>(state.range(0)));
  // One connection each for the whole benchmark, as raw has.
  auto producer = orc::Producer::create(*orch);
  if (!producer || producer->send_to("warm-up", pool.front()) != orc::Status::kOk ||
      producer->flush(std::chrono::seconds(5)) != orc::Status::kOk) {
    state.SkipWithError("the library's producer could not connect");
    return;
  }
  paired(
      state, [&] { return raw_produce(raw, pool); },
      [&] { return library_produce(*producer, raw, pool); });
}

void BM_Paired_Consume(benchmark::State& state) {
  Raw raw;
  if (!ready(state, raw)) return;
  auto orch = orc::Orchestration::from_uri("redis://" + server().address());
  const auto pool = pool_of(static_cast<std::size_t>(state.range(0)));
  std::uint64_t checksum = 0;
  // Each pass reads a stream of its own, filled before the pair (untimed).
  paired(
      state,
      [&]() -> std::optional<Seconds> {
        const auto topic = filled_topic(*orch, pool);
        if (topic.empty()) return std::nullopt;
        auto took = raw_consume(raw, topic, checksum);
        raw.command(("DEL " + topic).c_str());
        return took;
      },
      [&]() -> std::optional<Seconds> {
        const auto topic = filled_topic(*orch, pool);
        if (topic.empty()) return std::nullopt;
        auto took = library_consume(*orch, topic, checksum);
        raw.command(("DEL " + topic).c_str());
        return took;
      });
  benchmark::DoNotOptimize(checksum);
}

BENCHMARK(BM_Paired_Produce)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Paired_Consume)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(6)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
