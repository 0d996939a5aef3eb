#pragma once
// What every codec file of message_bench shares: the producer's data (Source), the
// checksum of what was read, the id generator of the baselines, the fixtures and counters.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlops/messaging.h"
#include "mlops/messaging/detail/mlops_message_generated.h"
#include "support/alloc_counter.h"

namespace mlops::bench::message {

namespace mes = mlops::messaging;
namespace wire = mlops::messaging::wire;

// --- The producer's data ---------------------------------------------------------------

/// One message as a producer holds it before serialising; every implementation builds from it.
/// One message as a producer holds it before serialising; every implementation builds from it.
struct Source {
  std::string name;
  mes::MessageType msg_type = mes::MessageType::OTHER;
  std::vector<std::string> topic;
  bool topic_is_list = false;
  std::optional<std::string> creator;
  mes::CreatorType creator_type = mes::CreatorType::UNKNOWN;
  std::string creator_type_text;  // The free-form text the original took ("ETL").
  std::optional<mes::Stage> stage;
  std::vector<std::string> next_task;
  bool next_task_is_list = false;
  std::optional<std::string> user_message;
  std::int32_t retries = 0;
  std::vector<std::string> output;
  bool output_is_list = false;
  std::vector<std::string> recipient;
  bool recipient_is_list = false;
  std::vector<std::pair<std::string, mes::Value>> args;  // In the producer's order, unsorted.
};

// --- Checksums of what was read ---------------------------------------------------------

struct Hash {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over 64-bit words.
  void add(std::uint64_t x) { h = (h ^ x) * 1099511628211ULL; }
  void text(std::string_view t) {
    add(t.size());
    if (!t.empty()) add(static_cast<unsigned char>(t.front()));
  }
  void missing() { add(0xFFFF); }
};

enum Tag : std::uint64_t {
  kNull = 0xA0,
  kBool,
  kInt,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kOther
};

// Identifier of a message built for the baselines: the same UUIDv7 layout and the same work
// as MessageId::generate (clock split into ms and sub-ms, splitmix64, monotonic per thread).
struct IdGenerator {
  std::uint64_t random = 0x243F6A8885A308D3ULL;
  std::uint64_t last_hi = 0;
  std::uint64_t last_lo = 0;

  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  wire::MessageId next(std::int64_t unix_ns) {
    const auto ns = static_cast<std::uint64_t>(unix_ns);
    const std::uint64_t ms = ns / 1'000'000;
    const std::uint64_t sub_ms = ((ns % 1'000'000) << 12) / 1'000'000;
    std::uint64_t z = (random += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    std::uint64_t hi = ((ms & 0xFFFFFFFFFFFF) << 16) | 0x7000 | sub_ms;
    std::uint64_t lo = 0x8000000000000000ULL | (z & 0x3FFFFFFFFFFFFFFFULL);
    if (hi < last_hi || (hi == last_hi && lo <= last_lo)) {
      hi = last_hi;
      lo = last_lo + 1;
    }
    last_hi = hi;
    last_lo = lo;
    return {hi, lo};
  }
};

// --- Fixtures and counters ---------------------------------------------------------------

/// 8-byte aligned bytes, as a transport hands them over (and as borrow() requires).
struct AlignedBytes {
  std::vector<std::uint64_t> words;
  std::size_t size = 0;

  AlignedBytes() = default;
  explicit AlignedBytes(std::span<const std::uint8_t> bytes)
      : words((bytes.size() + 7) / 8), size(bytes.size()) {
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  [[nodiscard]] const std::uint8_t* data() const {
    return reinterpret_cast<const std::uint8_t*>(words.data());
  }
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {data(), size}; }
};

/// Everything a benchmark of one message reads, made before timing starts.
struct Fixture {
  Source source;
  AlignedBytes bytes;       // Built by our builder; every verify and read runs on these.
  std::string proto_bytes;  // The same message as protobuf.
  std::string json_text;    // The same message as the original's JSON.
  std::string mlops_json;   // Our message as to_json() writes it (what from_json reads).
};

/// Reports bytes, allocations per iteration and a checksum.
class Counters {
 public:
  explicit Counters(benchmark::State& state)
      : state_(state), start_(mlops::testing::alloc_count()) {}
  void finish(std::size_t bytes, std::uint64_t checksum) {
    const auto allocs = mlops::testing::alloc_count() - start_;
    state_.counters["allocs"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state_.counters["bytes"] = static_cast<double>(bytes);
    // 24 bits print exactly; enough to see that two implementations read the same thing.
    state_.counters["checksum"] = static_cast<double>(checksum & 0xFFFFFF);
  }

 private:
  benchmark::State& state_;
  std::uint64_t start_;
};

template <typename T>
void keep(T& value) {
  benchmark::DoNotOptimize(value);
}

}  // namespace mlops::bench::message
