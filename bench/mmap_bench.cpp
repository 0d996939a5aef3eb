// The mmap queue beside the physical limit: a plain memcpy into a mapped file, in the same
// binary and run. Append (1 and 2 writer processes), read, and one-way latency between two
// processes at a fixed 100 k msgs/s (percentiles from every sample).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <mlops/orchestration.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kSegmentBytes = std::uint64_t{256} << 20;
constexpr int kLatencySamples = 100'000;  // One second at 100 k msgs/s.

std::string fresh_dir(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("mlops-bench-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(path);
  return path.string();
}

std::string queue_uri(const std::string& dir) {
  return "mmap://" + dir + "?segment_bytes=" + std::to_string(kSegmentBytes);
}

/// A message whose wire size is close to `bytes`.
mes::MLOpsMessage message_of_size(std::size_t bytes) {
  const auto base =
      mes::MessageBuilder().with_msg_type(mes::MessageType::INPROGRESS).with_user_msg("").build();
  const std::size_t filler = bytes > base.bytes().size() + 8 ? bytes - base.bytes().size() - 8 : 0;
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::INPROGRESS)
      .with_user_msg(std::string(filler, 'x'))
      .build();
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// A pre-faulted mapped file: the baseline's destination.
struct MappedArena {
  explicit MappedArena(std::uint64_t bytes) : size(bytes) {
    path = fresh_dir("arena");
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) != 0) std::abort();
    data = static_cast<std::uint8_t*>(
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0));
    if (data == MAP_FAILED) std::abort();
  }
  ~MappedArena() {
    ::munmap(data, size);
    ::close(fd);
    ::unlink(path.c_str());
  }
  std::string path;
  int fd = -1;
  std::uint8_t* data = nullptr;
  std::uint64_t size = 0;
};

// Appends `payload` as a length-prefixed record, the length stored last (release): the
// least a crash-safe log can do. Wraps at the end.
struct ArenaWriter {
  MappedArena& arena;
  std::uint64_t position = 0;
  void append(std::span<const std::uint8_t> payload) {
    const std::uint64_t need = (8 + payload.size() + 7) & ~std::uint64_t{7};
    if (position + need > arena.size) position = 0;
    std::memcpy(arena.data + position + 8, payload.data(), payload.size());
    reinterpret_cast<std::atomic<std::uint64_t>*>(arena.data + position)
        ->store(payload.size(), std::memory_order_release);
    position += need;
  }
};

// One pre-faulted 1 GiB file shared by every baseline, made on first use.
MappedArena& shared_arena() {
  static MappedArena arena(std::uint64_t{1} << 30);
  return arena;
}

void set_counters(benchmark::State& state, std::size_t bytes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  state.counters["msg_bytes"] = static_cast<double>(bytes);
}

// --- Append, one writer -------------------------------------------------------------------

void BM_Memcpy_MappedFile_Append(benchmark::State& state) {
  const auto msg = message_of_size(static_cast<std::size_t>(state.range(0)));
  auto& arena = shared_arena();
  ArenaWriter writer{arena};
  for (auto _ : state) {
    writer.append(msg.bytes());
    benchmark::ClobberMemory();
  }
  set_counters(state, msg.bytes().size());
}

void BM_Mmap_Append(benchmark::State& state) {
  const auto msg = message_of_size(static_cast<std::size_t>(state.range(0)));
  const auto dir = fresh_dir("append");
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto producer = orc::Producer::create(orch, "bench").value();
  if (producer.send(msg) != orc::Status::kOk)
    state.SkipWithError("send failed");  // Maps segment 0.
  for (auto _ : state) {
    if (producer.send(msg) != orc::Status::kOk) {
      state.SkipWithError("send failed");
      break;
    }
  }
  set_counters(state, msg.bytes().size());
  producer.close();
  std::filesystem::remove_all(dir);
}

// --- Append, two writer processes ---------------------------------------------------------

// Both processes append `count` messages; the time is from a shared start until both are
// done, so items/s is the pair's combined rate.
template <typename AppendN>
void two_writers(benchmark::State& state, std::size_t bytes, AppendN append_n) {
  constexpr int kPerWriter = 500'000;
  for (auto _ : state) {
    int go[2];
    int done[2];
    if (::pipe(go) != 0 || ::pipe(done) != 0) std::abort();
    const pid_t child = ::fork();
    if (child == 0) {
      char byte = 0;
      (void)!::read(go[0], &byte, 1);
      const bool ok = append_n(kPerWriter, 1);
      (void)!::write(done[1], &byte, 1);
      ::_exit(ok ? 0 : 1);
    }
    const auto start = Clock::now();
    (void)!::write(go[1], "g", 1);
    const bool ok = append_n(kPerWriter, 0);
    char byte = 0;
    (void)!::read(done[0], &byte, 1);
    const auto elapsed = Clock::now() - start;
    int status = 0;
    ::waitpid(child, &status, 0);
    for (const int fd : {go[0], go[1], done[0], done[1]}) ::close(fd);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      state.SkipWithError("a writer failed");
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
  }
  state.SetItemsProcessed(state.iterations() * 2 * kPerWriter);
  state.SetBytesProcessed(state.iterations() * 2 * kPerWriter * static_cast<std::int64_t>(bytes));
  state.counters["msg_bytes"] = static_cast<double>(bytes);
}

void BM_Memcpy_MappedFile_Append2Procs(benchmark::State& state) {
  const auto msg = message_of_size(static_cast<std::size_t>(state.range(0)));
  auto& arena = shared_arena();
  static std::atomic<std::uint64_t>* shared_tail = [] {
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return static_cast<std::atomic<std::uint64_t>*>(page);
  }();
  // Two processes claim space with one atomic add on a shared tail, then memcpy.
  two_writers(state, msg.bytes().size(), [&](int count, int) {
    const std::uint64_t need = (8 + msg.bytes().size() + 7) & ~std::uint64_t{7};
    for (int i = 0; i < count; ++i) {
      const std::uint64_t position = shared_tail->fetch_add(need) % (arena.size - need);
      std::memcpy(arena.data + position + 8, msg.bytes().data(), msg.bytes().size());
      reinterpret_cast<std::atomic<std::uint64_t>*>(arena.data + position)
          ->store(msg.bytes().size(), std::memory_order_release);
    }
    return true;
  });
}

void BM_Mmap_Append2Procs(benchmark::State& state) {
  const auto msg = message_of_size(static_cast<std::size_t>(state.range(0)));
  const auto dir = fresh_dir("append2");
  {  // Create the topic and its first segment before the clock starts.
    auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
    auto producer = orc::Producer::create(orch, "bench").value();
    (void)producer.send(msg);
  }
  two_writers(state, msg.bytes().size(), [&](int count, int) {
    auto orch = orc::Orchestration::from_uri(queue_uri(dir));
    if (!orch) return false;
    auto producer = orc::Producer::create(*orch, "bench");
    if (!producer) return false;
    for (int i = 0; i < count; ++i) {
      if (producer->send(msg) != orc::Status::kOk) return false;
    }
    return true;
  });
  std::filesystem::remove_all(dir);
}

// --- Read ---------------------------------------------------------------------------------

void BM_Memcpy_MappedFile_Read(benchmark::State& state) {
  const auto msg = message_of_size(static_cast<std::size_t>(state.range(0)));
  auto& arena = shared_arena();
  const std::uint64_t need = (8 + msg.bytes().size() + 7) & ~std::uint64_t{7};
  ArenaWriter writer{arena};
  const std::uint64_t records = std::min<std::uint64_t>(arena.size / need, 2'000'000);
  for (std::uint64_t i = 0; i < records; ++i) writer.append(msg.bytes());
  std::vector<std::uint8_t> out(msg.bytes().size());
  std::uint64_t position = 0;
  for (auto _ : state) {
    if (position + need > records * need) position = 0;
    const auto length = reinterpret_cast<std::atomic<std::uint64_t>*>(arena.data + position)
                            ->load(std::memory_order_acquire);
    std::memcpy(out.data(), arena.data + position + 8, length);
    benchmark::DoNotOptimize(out.data());
    position += need;
  }
  set_counters(state, msg.bytes().size());
}

void BM_Mmap_Read(benchmark::State& state) {
  const auto msg = message_of_size(static_cast<std::size_t>(state.range(0)));
  const auto dir = fresh_dir("read");
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  constexpr int kRecords = 1'000'000;
  {
    auto producer = orc::Producer::create(orch, "bench").value();
    for (int i = 0; i < kRecords; ++i) (void)producer.send(msg);
  }
  // Each read is verified and handed out as a zero-copy view, as receive() always does.
  std::vector<mes::MLOpsMessage> batch;
  batch.reserve(256);
  std::optional<orc::Consumer> consumer;
  std::size_t in_batch = 0;
  std::size_t index = 0;
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    if (index == in_batch) {
      if (!consumer ||
          (in_batch = 0, consumer->receive(batch, {}, std::chrono::milliseconds(0), 256),
           batch.empty())) {
        state.PauseTiming();
        consumer.reset();  // Start over from the beginning in a fresh group.
        consumer.emplace(orc::Consumer::create("bench", orch, {.auto_commit = false}).value());
        state.ResumeTiming();
        (void)consumer->receive(batch, {}, std::chrono::milliseconds(0), 256);
      }
      in_batch = batch.size();
      index = 0;
    }
    checksum += batch[index++].bytes().size();
  }
  benchmark::DoNotOptimize(checksum);
  set_counters(state, msg.bytes().size());
  consumer.reset();
  std::filesystem::remove_all(dir);
}

// --- One-way latency between processes at 100 k msgs/s -------------------------------------

void report_percentiles(benchmark::State& state, std::vector<std::int64_t>& samples) {
  if (samples.empty()) return;
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return static_cast<double>(samples[std::min(
        samples.size() - 1, static_cast<std::size_t>(q * static_cast<double>(samples.size())))]);
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["p99.9_ns"] = at(0.999);
  state.counters["samples"] = static_cast<double>(samples.size());
}

// The sender paces itself to one message every 10 us and stamps each with the monotonic
// clock (shared by all processes); the receiver busy-polls and records now - stamp.
template <typename Send, typename Receive>
void latency(benchmark::State& state, Send send, Receive receive) {
  std::vector<std::int64_t> samples;
  for (auto _ : state) {
    samples.clear();
    samples.reserve(kLatencySamples);
    const pid_t child = ::fork();
    if (child == 0) {
      auto next = now_ns();
      for (int i = 0; i < kLatencySamples; ++i) {
        next += 10'000;
        while (now_ns() < next) {
        }
        if (!send(now_ns())) ::_exit(1);
      }
      ::_exit(0);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (static_cast<int>(samples.size()) < kLatencySamples && Clock::now() < deadline) {
      receive([&](std::int64_t stamp) { samples.push_back(now_ns() - stamp); });
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (static_cast<int>(samples.size()) < kLatencySamples) state.SkipWithError("samples missing");
  }
  report_percentiles(state, samples);
}

void BM_Memcpy_MappedFile_Latency(benchmark::State& state) {
  MappedArena arena(std::uint64_t{64} << 20);
  std::memset(arena.data, 0, arena.size);
  std::uint64_t read_position = 0;
  const std::uint64_t need = 16 + 200;
  latency(
      state,
      [&, position = std::uint64_t{0}](std::int64_t stamp) mutable {
        std::uint8_t payload[200] = {};
        std::memcpy(payload, &stamp, sizeof stamp);
        std::memcpy(arena.data + position + 8, payload, sizeof payload);
        reinterpret_cast<std::atomic<std::uint64_t>*>(arena.data + position)
            ->store(sizeof payload, std::memory_order_release);
        position += need;
        return true;
      },
      [&](auto record) {
        auto* length = reinterpret_cast<std::atomic<std::uint64_t>*>(arena.data + read_position);
        if (length->load(std::memory_order_acquire) == 0) return;
        std::int64_t stamp = 0;
        std::memcpy(&stamp, arena.data + read_position + 8, sizeof stamp);
        record(stamp);
        read_position += need;
      });
}

void BM_Mmap_Latency(benchmark::State& state) {
  const auto dir = fresh_dir("latency");
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto consumer = orc::Consumer::create("ping", orch, {.group = "latency"}).value();
  std::vector<mes::MLOpsMessage> batch;
  batch.reserve(64);
  const auto filler = std::string(160, 'p');
  latency(
      state,
      [&, producer = std::optional<orc::Producer>()](std::int64_t stamp) mutable {
        if (!producer) producer.emplace(orc::Producer::create(orch, "ping").value());
        mes::MessageBuilder builder;
        const auto msg =
            builder.with_user_msg(filler).with_additional_argument("t", stamp).build_view();
        return producer->send(msg) == orc::Status::kOk;
      },
      [&](auto record) {
        if (consumer.receive(batch, {}, std::chrono::milliseconds(0), 64) != orc::Status::kOk)
          return;
        for (const auto& msg : batch) record(msg.additional_argument("t")->as_int().value_or(0));
      });
  std::filesystem::remove_all(dir);
}

}  // namespace

BENCHMARK(BM_Memcpy_MappedFile_Append)->Arg(200)->Arg(2048);
BENCHMARK(BM_Mmap_Append)->Arg(200)->Arg(2048);
BENCHMARK(BM_Memcpy_MappedFile_Append2Procs)->Arg(200)->Iterations(3)->UseManualTime();
BENCHMARK(BM_Mmap_Append2Procs)->Arg(200)->Iterations(3)->UseManualTime();
BENCHMARK(BM_Memcpy_MappedFile_Read)->Arg(200)->Arg(2048);
BENCHMARK(BM_Mmap_Read)->Arg(200)->Arg(2048);
BENCHMARK(BM_Memcpy_MappedFile_Latency)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mmap_Latency)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
