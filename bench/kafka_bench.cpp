// The kafka backend beside raw librdkafka with identical settings, on one librdkafka mock
// cluster (in process), in the same run: produce and consume, messages/s and bytes/s, for
// 200 B and 2 KB messages.
//
// Produce: one iteration sends kBatch messages and flushes (acks=all, idempotent: the
// library's defaults, set on the raw producer too; delivery reports on both). The library's
// records carry one header (content-type) and, by default (ordering=producer), the producer's
// key; there are two raw baselines: BM_Raw_Produce sends the bare payload,
// BM_RawHeader_Produce the same records the library sends (payload, that header and a key of
// the same length), which is what the library's own overhead is measured against.
// Consume: one iteration makes a consumer (no group: direct assignment from the start) and
// reads the kBatch messages the topic holds (written by the library, so with the header);
// the clock runs from the first record to the last (connection set-up excluded, manual
// time). The library also verifies each message; raw only reads it.
// Paired (the target figures): BM_Paired_Produce and BM_Paired_Consume run one raw pass and
// one library pass back to back in every iteration, their order alternating, so both meet
// the same state of this shared machine; they report raw_per_second, mlops_per_second and
// mlops_over_raw (raw time / library time over all passes of a repetition).
// Produce benchmarks cycle through kPoolSize distinct messages (as a pipeline sends new ones).
// The mock keeps about 5 MB per partition: each topic holds 2 MB.
#include <benchmark/benchmark.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <mlops/orchestration.h>
#include <mlops/version.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;

// Records per iteration for a payload size: 2 MB a topic, well under the mock's 5 MB a
// partition (which counts record overhead too).
std::int64_t batch_for(std::size_t bytes) { return static_cast<std::int64_t>((2u << 20) / bytes); }

/// One mock cluster for the whole run.
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
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error.data(), error.size());
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

std::string fresh_topic(const char* kind, std::size_t bytes) {
  static std::atomic<int> counter{0};
  auto topic = std::string("bench-") + kind + "-" + std::to_string(bytes) + "-" +
               std::to_string(counter.fetch_add(1));
  Mock::get().create_topic(topic);
  return topic;
}

/// A message whose bytes are about `bytes` long (the user message fills it up).
mes::MLOpsMessage message_of(std::size_t bytes, std::int64_t number = 0) {
  const auto empty = mes::MessageBuilder().with_creator("bench").with_user_msg("").build();
  const std::size_t fill = bytes > empty.bytes().size() + 8 ? bytes - empty.bytes().size() - 8 : 0;
  return mes::MessageBuilder()
      .with_creator("bench")
      .with_retries(static_cast<std::int32_t>(number))
      .with_user_msg(std::string(fill, 'x'))
      .build();
}

// Distinct messages a producer cycles through, as a pipeline stage sends a new message each
// time (one message sent again and again would take the library's path for repeated sends).
constexpr std::size_t kPoolSize = 256;

std::vector<mes::MLOpsMessage> pool_of(std::size_t bytes) {
  std::vector<mes::MLOpsMessage> pool;
  for (std::size_t i = 0; i < kPoolSize; ++i)
    pool.push_back(message_of(bytes, static_cast<std::int64_t>(i) + 1));
  return pool;
}

// The header the library puts on every record (src/orchestration/kafka/kafka_client.h);
// BM_Raw_Consume checks that the library's records carry exactly this.
constexpr std::string_view kHeaderName = "content-type";
// Its schema version follows the library's, which this binary is linked with.
const std::string& header_value() {
  static const std::string value =
      "application/x-mlops-flatbuffer; schema=" + std::to_string(mlops::schema_version());
  return value;
}
// A key as long as the one the library gives each producer's records (a message id's text).
constexpr std::string_view kProducerKey = "0190b1c2-d3e4-7f00-8a1b-2c3d4e5f6a7b";

// The settings both sides use (the library's producer defaults, written out for raw).
const std::vector<std::pair<std::string, std::string>> kProducerSettings{
    {"enable.idempotence", "true"}, {"acks", "all"}};
const std::vector<std::pair<std::string, std::string>> kConsumerSettings{
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"auto.offset.reset", "earliest"},
    {"enable.partition.eof", "false"}};

rd_kafka_t* raw_client(rd_kafka_type_t type,
                       const std::vector<std::pair<std::string, std::string>>& settings) {
  std::array<char, 256> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      std::abort();
    }
  };
  set("bootstrap.servers", Mock::get().bootstraps());
  for (const auto& [key, value] : settings) set(key, value);
  if (type == RD_KAFKA_CONSUMER) set("group.id", "raw-" + std::to_string(std::rand()));
  // Delivery reports, as the library has (and as any producer that wants to know does).
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* record, void*) {
      if (record->err != RD_KAFKA_RESP_ERR_NO_ERROR) std::abort();
    });
  }
  rd_kafka_t* handle = rd_kafka_new(type, conf, error.data(), error.size());
  if (handle == nullptr) std::abort();
  return handle;
}

orc::Orchestration library_orchestration() {
  auto orch = orc::Orchestration::from_uri("kafka://" + Mock::get().bootstraps());
  if (!orch) std::abort();
  return std::move(*orch);
}

void set_counters(benchmark::State& state, std::int64_t batch, std::size_t bytes) {
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * static_cast<std::int64_t>(bytes));
}

using Seconds = std::chrono::duration<double>;
using SteadyClock = std::chrono::steady_clock;

// Raw librdkafka producing the bare payloads of `pool`, or (`with_header`) the records the
// library produces: the payload, its header and a producer key. One pass sends `batch`
// records (cycling through the pool) and flushes.
class RawProducer {
 public:
  RawProducer(const std::vector<mes::MLOpsMessage>& pool, bool with_header)
      : pool_(pool),
        field_count_(with_header ? 4 : 2),
        producer_(raw_client(RD_KAFKA_PRODUCER, kProducerSettings)) {
    const auto topic =
        fresh_topic(with_header ? "rawheader-produce" : "raw-produce", pool.front().bytes().size());
    handle_ = rd_kafka_topic_new(producer_, topic.c_str(), nullptr);
    fields_[0].vtype = RD_KAFKA_VTYPE_RKT;
    fields_[0].u.rkt = handle_;
    fields_[1].vtype = RD_KAFKA_VTYPE_VALUE;
    fields_[2].vtype = RD_KAFKA_VTYPE_HEADER;
    fields_[2].u.header = {kHeaderName.data(), header_value().data(),
                           static_cast<ssize_t>(header_value().size())};
    fields_[3].vtype = RD_KAFKA_VTYPE_KEY;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): librdkafka copies the key.
    fields_[3].u.mem = {const_cast<char*>(kProducerKey.data()), kProducerKey.size()};
  }
  RawProducer(const RawProducer&) = delete;
  RawProducer& operator=(const RawProducer&) = delete;
  ~RawProducer() {
    rd_kafka_topic_destroy(handle_);
    rd_kafka_destroy(producer_);
  }

  /// @return the pass's duration, or nullopt if the flush failed.
  std::optional<Seconds> pass(std::int64_t batch) {
    const auto start = SteadyClock::now();
    for (std::int64_t i = 0; i < batch; ++i) {
      // No copy: the pool outlives every flush.
      const auto bytes = pool_[static_cast<std::size_t>(i) % pool_.size()].bytes();
      fields_[1].u.mem = {const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
      for (;;) {
        rd_kafka_error_t* error = rd_kafka_produceva(producer_, fields_.data(), field_count_);
        if (error == nullptr) break;
        const bool full = rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL;
        rd_kafka_error_destroy(error);
        if (!full) std::abort();
        rd_kafka_poll(producer_, 1);
      }
      rd_kafka_poll(producer_, 0);
    }
    if (rd_kafka_flush(producer_, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
    return SteadyClock::now() - start;
  }

 private:
  const std::vector<mes::MLOpsMessage>& pool_;
  std::size_t field_count_;
  rd_kafka_t* producer_;
  rd_kafka_topic_t* handle_ = nullptr;
  std::array<rd_kafka_vu_t, 4> fields_{};
};

// The library sending the messages of `pool`; one pass sends `batch` (cycling through the
// pool) and flushes.
class LibraryProducer {
 public:
  explicit LibraryProducer(const std::vector<mes::MLOpsMessage>& pool)
      : pool_(pool),
        orch_(library_orchestration()),
        producer_(orc::Producer::create(orch_,
                                        fresh_topic("mlops-produce", pool.front().bytes().size()),
                                        {.send_timeout = std::chrono::seconds(30)})
                      .value()) {}

  /// @return the pass's duration, or nullopt if a send or the flush failed.
  std::optional<Seconds> pass(std::int64_t batch) {
    const auto start = SteadyClock::now();
    bool sent = true;
    for (std::int64_t i = 0; i < batch; ++i) {
      sent =
          producer_.send(pool_[static_cast<std::size_t>(i) % pool_.size()]) == orc::Status::kOk &&
          sent;
    }
    if (producer_.flush(std::chrono::seconds(30)) != orc::Status::kOk || !sent) return std::nullopt;
    return SteadyClock::now() - start;
  }

 private:
  const std::vector<mes::MLOpsMessage>& pool_;
  orc::Orchestration orch_;
  orc::Producer producer_;
};

// A producer's passes as a benchmark; `make(pool)` builds the producer (RawProducer or
// LibraryProducer).
template <class Make>
void produce_passes(benchmark::State& state, const Make& make) {
  const auto pool = pool_of(static_cast<std::size_t>(state.range(0)));
  const auto batch = batch_for(pool.front().bytes().size());
  const auto producer = make(pool);
  for (auto _ : state) {
    if (!producer->pass(batch)) state.SkipWithError("a send or the flush failed");
  }
  set_counters(state, batch, pool.front().bytes().size());
}

void BM_Raw_Produce(benchmark::State& state) {
  produce_passes(state,
                 [](const auto& pool) { return std::make_unique<RawProducer>(pool, false); });
}
void BM_RawHeader_Produce(benchmark::State& state) {
  produce_passes(state, [](const auto& pool) { return std::make_unique<RawProducer>(pool, true); });
}
void BM_Mlops_Produce(benchmark::State& state) {
  produce_passes(state, [](const auto& pool) { return std::make_unique<LibraryProducer>(pool); });
}

/// A topic holding `batch` copies of a message of `bytes`, produced once per size.
std::string filled_topic(std::size_t bytes, std::int64_t& batch, std::size_t& message_bytes) {
  const auto message = message_of(bytes);
  message_bytes = message.bytes().size();
  batch = batch_for(message_bytes);
  const auto topic = fresh_topic("consume", message_bytes);
  auto orch = library_orchestration();
  auto producer = orc::Producer::create(orch, topic, {.send_timeout = std::chrono::seconds(30)});
  if (!producer) std::abort();
  for (std::int64_t i = 0; i < batch; ++i) {
    if (producer->send(message) != orc::Status::kOk) std::abort();
  }
  if (producer->flush(std::chrono::seconds(30)) != orc::Status::kOk) std::abort();
  return topic;
}

// Whether `record` carries exactly the header kHeaderName/header_value(), nothing else.
bool has_library_header(const rd_kafka_message_t* record) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(record, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  const void* value = nullptr;
  std::size_t size = 0;
  return rd_kafka_header_cnt(headers) == 1 &&
         rd_kafka_header_get_last(headers, std::string(kHeaderName).c_str(), &value, &size) ==
             RD_KAFKA_RESP_ERR_NO_ERROR &&
         std::string_view(static_cast<const char*>(value), size) == header_value();
}

// One consume pass: a fresh raw consumer reads the topic's `batch` records from the start.
// @return the time from its first record to its last, or an error.
std::variant<Seconds, const char*> raw_consume_pass(const std::string& topic, std::int64_t batch,
                                                    std::uint64_t& checksum) {
  rd_kafka_t* consumer = raw_client(RD_KAFKA_CONSUMER, kConsumerSettings);
  (void)rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_INVALID;
  (void)rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  const char* error = nullptr;
  std::int64_t got = 0;
  SteadyClock::time_point start;
  while (got < batch) {
    rd_kafka_message_t* record = rd_kafka_consumer_poll(consumer, 5000);
    if (record == nullptr) {
      error = "consume timed out";
      break;
    }
    if (record->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (got++ == 0) {
        start = SteadyClock::now();
        if (!has_library_header(record)) error = "records lack the library's header";
      }
      checksum += record->len;
      (void)rd_kafka_offset_store(record->rkt, record->partition, record->offset);
    }
    rd_kafka_message_destroy(record);
  }
  const Seconds took = SteadyClock::now() - start;
  rd_kafka_destroy_flags(consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  if (error != nullptr) return error;
  return took;
}

// One consume pass through the library: a fresh consumer without a group reads the topic.
std::variant<Seconds, const char*> library_consume_pass(const orc::Orchestration& orch,
                                                        const std::string& topic,
                                                        std::int64_t batch, std::uint64_t& checksum,
                                                        std::vector<mes::MLOpsMessage>& out) {
  auto consumer = orc::Consumer::create(topic, orch, {.auto_commit = false});
  if (!consumer) return "consumer creation failed";
  std::int64_t got = 0;
  SteadyClock::time_point start;
  while (got < batch) {
    if (consumer->receive(out, {}, std::chrono::seconds(5), got == 0 ? 1 : 1000) !=
        orc::Status::kOk) {
      return "consume timed out";
    }
    if (got == 0) start = SteadyClock::now();
    got += static_cast<std::int64_t>(out.size());
    for (const auto& message : out) checksum += message.bytes().size();
  }
  const Seconds took = SteadyClock::now() - start;
  out.clear();
  return took;
}

// Adds a pass's time to `total`, or stops the benchmark with its error.
bool add_pass(benchmark::State& state, const std::variant<Seconds, const char*>& pass,
              Seconds& total) {
  if (const auto* error = std::get_if<const char*>(&pass)) {
    state.SkipWithError(*error);
    return false;
  }
  total += std::get<Seconds>(pass);
  return true;
}

// What a consume benchmark reads: a filled topic, through raw librdkafka or the library.
struct ConsumeSubject {
  std::int64_t batch = 0;
  std::size_t message_bytes = 0;
  std::string topic;
  orc::Orchestration orch;
  std::uint64_t checksum = 0;
  std::vector<mes::MLOpsMessage> out;

  explicit ConsumeSubject(std::size_t bytes)
      : topic(filled_topic(bytes, batch, message_bytes)), orch(library_orchestration()) {}
  std::variant<Seconds, const char*> raw_pass() { return raw_consume_pass(topic, batch, checksum); }
  std::variant<Seconds, const char*> library_pass() {
    return library_consume_pass(orch, topic, batch, checksum, out);
  }
};

// One side's consume passes as a benchmark: `pass` is ConsumeSubject::raw_pass or
// library_pass.
void consume_passes(benchmark::State& state,
                    std::variant<Seconds, const char*> (ConsumeSubject::*pass)()) {
  ConsumeSubject subject(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Seconds took{};
    if (!add_pass(state, (subject.*pass)(), took)) break;
    state.SetIterationTime(took.count());
  }
  benchmark::DoNotOptimize(subject.checksum);
  set_counters(state, subject.batch, subject.message_bytes);
}

void BM_Raw_Consume(benchmark::State& state) { consume_passes(state, &ConsumeSubject::raw_pass); }
void BM_Mlops_Consume(benchmark::State& state) {
  consume_passes(state, &ConsumeSubject::library_pass);
}

// Paired: each iteration runs one raw pass and one library pass back to back (their order
// alternating), so whatever slows the shared machine for a while slows both alike. Counters:
// raw_per_second and mlops_per_second (records/s over all passes) and
// mlops_over_raw = their ratio. The iteration time is both passes together.
// `pairs`: iterations whose two passes both completed (a failed one stops the benchmark).
void report_paired(benchmark::State& state, std::int64_t records, std::int64_t pairs, Seconds raw,
                   Seconds mlops) {
  if (pairs == 0) return;
  const auto count = static_cast<double>(records) * static_cast<double>(pairs);
  state.counters["raw_per_second"] = count / raw.count();
  state.counters["mlops_per_second"] = count / mlops.count();
  state.counters["mlops_over_raw"] = raw.count() / mlops.count();
}

void BM_Paired_Produce(benchmark::State& state) {
  const auto pool = pool_of(static_cast<std::size_t>(state.range(0)));
  const auto batch = batch_for(pool.front().bytes().size());
  RawProducer raw(pool, true);  // the same records as the library's
  LibraryProducer library(pool);
  Seconds raw_total{};
  Seconds library_total{};
  std::int64_t pairs = 0;
  bool raw_first = true;
  for (auto _ : state) {
    std::optional<Seconds> raw_pass;
    std::optional<Seconds> library_pass;
    if (raw_first) {
      raw_pass = raw.pass(batch);
      library_pass = library.pass(batch);
    } else {
      library_pass = library.pass(batch);
      raw_pass = raw.pass(batch);
    }
    raw_first = !raw_first;
    if (!raw_pass || !library_pass) {
      state.SkipWithError("a produce pass failed");
      break;
    }
    raw_total += *raw_pass;
    library_total += *library_pass;
    ++pairs;
    state.SetIterationTime((*raw_pass + *library_pass).count());
  }
  report_paired(state, batch, pairs, raw_total, library_total);
}

void BM_Paired_Consume(benchmark::State& state) {
  ConsumeSubject subject(static_cast<std::size_t>(state.range(0)));
  Seconds raw_total{};
  Seconds library_total{};
  std::int64_t pairs = 0;
  bool raw_first = true;
  for (auto _ : state) {
    Seconds raw_pass{};
    Seconds library_pass{};
    const bool ok = raw_first ? add_pass(state, subject.raw_pass(), raw_pass) &&
                                    add_pass(state, subject.library_pass(), library_pass)
                              : add_pass(state, subject.library_pass(), library_pass) &&
                                    add_pass(state, subject.raw_pass(), raw_pass);
    if (!ok) break;
    raw_first = !raw_first;
    raw_total += raw_pass;
    library_total += library_pass;
    ++pairs;
    state.SetIterationTime((raw_pass + library_pass).count());
  }
  benchmark::DoNotOptimize(subject.checksum);
  report_paired(state, subject.batch, pairs, raw_total, library_total);
}

// Fixed iteration counts: a consume iteration also sets up a consumer (not timed), so letting
// the library pick the count from the timed part alone would run for minutes.
BENCHMARK(BM_Raw_Produce)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawHeader_Produce)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mlops_Produce)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Raw_Consume)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mlops_Consume)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Paired_Produce)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Paired_Consume)
    ->Arg(200)
    ->Arg(2048)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
