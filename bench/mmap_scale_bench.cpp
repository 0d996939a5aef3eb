// The mmap queue at scale, by the wall clock, each figure beside its floor in the same run:
//   sustained append of 2 M messages into a fresh queue (default segments) by 1, 2 and 4
//     writer processes, beside memcpy into a pre-faulted mapping by as many processes (the
//     issue's floor) and into a file made and faulted in within the run (what is left when
//     every page is new, as in a fresh queue);
//   reading those 2 M messages (verified, as receive() always does) beside memcpy of the
//     same payloads out of the same segment files, and beside that memcpy followed by
//     FlatBuffers' own verifier (what any reader that checks what it reads pays);
//   competing consumers: 1, 2 and 4 member processes of one group sharing the same log.
// Every benchmark reports items/s over the whole run (UseManualTime: time from releasing the
// processes to the last one done), so the segment preparer, page faults and rolls count.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <flatbuffers/flatbuffers.h>
#include <mlops/messaging/detail/mlops_message_generated.h>
#include <mlops/orchestration.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMessages = 2'000'000;
constexpr std::size_t kMessageBytes = 200;

std::string fresh_dir(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("mlops-scale-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(path);
  return path.string();
}

std::string queue_uri(const std::string& dir) { return "mmap://" + dir; }  // Default segments.

mes::MLOpsMessage message_of_size(std::size_t bytes) {
  const auto base =
      mes::MessageBuilder().with_msg_type(mes::MessageType::INPROGRESS).with_user_msg("").build();
  const std::size_t filler = bytes > base.bytes().size() + 8 ? bytes - base.bytes().size() - 8 : 0;
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::INPROGRESS)
      .with_user_msg(std::string(filler, 'x'))
      .build();
}

// A shared anonymous page of counters, made before forking.
std::atomic<std::uint64_t>* shared_counters() {
  static auto* page = [] {
    void* memory = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) std::abort();
    return static_cast<std::atomic<std::uint64_t>*>(memory);
  }();
  return page;
}

// Forks `procs` processes; each runs `setup(index)` (untimed), then waits for the start,
// then `work(index)`. Returns the seconds from the start until the last one ended, or a
// negative number when one failed.
template <typename Setup, typename Work>
double run_processes(int procs, Setup setup, Work work) {
  int ready[2];
  int go[2];
  if (::pipe(ready) != 0 || ::pipe(go) != 0) std::abort();
  std::vector<pid_t> children;
  for (int p = 0; p < procs; ++p) {
    const pid_t child = ::fork();
    if (child == 0) {
      auto state = setup(p);
      char byte = 'r';
      (void)!::write(ready[1], &byte, 1);
      if (::read(go[0], &byte, 1) != 1) ::_exit(2);
      ::_exit(work(p, state) ? 0 : 1);
    }
    children.push_back(child);
  }
  for (int p = 0; p < procs; ++p) {
    char byte = 0;
    if (::read(ready[0], &byte, 1) != 1) std::abort();
  }
  const auto start = Clock::now();
  const std::string release(static_cast<std::size_t>(procs), 'g');
  (void)!::write(go[1], release.data(), release.size());
  bool ok = true;
  for (const pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
  return ok ? seconds : -1;
}

void finish(benchmark::State& state, std::int64_t items) {
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() * items * static_cast<std::int64_t>(kMessageBytes));
}

// --- Sustained append ------------------------------------------------------------------------

// Every process claims room with one atomic add on a shared tail and memcpys the message
// into one mapped file, its length stored last (release).
bool append_to_arena(std::uint8_t* data, std::atomic<std::uint64_t>* tail,
                     const mes::MLOpsMessage& msg, std::uint64_t need, int procs) {
  for (int i = 0; i < kMessages / procs; ++i) {
    const std::uint64_t position = tail->fetch_add(need, std::memory_order_relaxed);
    std::memcpy(data + position + 8, msg.bytes().data(), msg.bytes().size());
    reinterpret_cast<std::atomic<std::uint64_t>*>(data + position)
        ->store(msg.bytes().size(), std::memory_order_release);
  }
  return true;
}

// The floor the issue sets: memcpy into one pre-faulted mapped file (populated before the
// clock starts, so no page is new to the kernel or the page tables).
void BM_Floor_Append(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const auto msg = message_of_size(kMessageBytes);
  const std::uint64_t need = (8 + msg.bytes().size() + 7) & ~std::uint64_t{7};
  const std::uint64_t size = need * kMessages;
  const auto path = fresh_dir("arena");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::posix_fallocate(fd, 0, static_cast<off_t>(size)) != 0) std::abort();
  auto* data = static_cast<std::uint8_t*>(
      ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0));
  if (data == MAP_FAILED) std::abort();
  auto* tail = shared_counters();
  for (auto _ : state) {
    tail->store(0);
    const double seconds = run_processes(
        procs, [](int) { return 0; },
        [&](int, int) { return append_to_arena(data, tail, msg, need, procs); });
    if (seconds < 0) state.SkipWithError("a writer failed");
    state.SetIterationTime(seconds);
  }
  finish(state, kMessages);
  ::munmap(data, size);
  ::close(fd);
  ::unlink(path.c_str());
}

// A second floor, to show what a fresh queue cannot avoid: the same memcpy into a file made
// inside the timed run (created, allocated, mapped, its pages faulted in by the writes), as
// each of a fresh queue's segments is. The queue's figure divided by this one is the queue's
// own cost; this one divided by BM_Floor_Append is the kernel's price for new pages.
void BM_FreshFileFloor_Append(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const auto msg = message_of_size(kMessageBytes);
  const std::uint64_t need = (8 + msg.bytes().size() + 7) & ~std::uint64_t{7};
  const std::uint64_t size = need * kMessages;
  auto* tail = shared_counters();
  for (auto _ : state) {
    const auto path = fresh_dir("fresh-arena");
    tail->store(0);
    const auto start = Clock::now();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (fd < 0 || ::posix_fallocate(fd, 0, static_cast<off_t>(size)) != 0) std::abort();
    auto* data = static_cast<std::uint8_t*>(
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    if (data == MAP_FAILED) std::abort();
    const double seconds = run_processes(
        procs, [](int) { return 0; },
        [&](int, int) { return append_to_arena(data, tail, msg, need, procs); });
    if (seconds < 0) state.SkipWithError("a writer failed");
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    ::munmap(data, size);
    ::close(fd);
    ::unlink(path.c_str());
  }
  finish(state, kMessages);
}

// The queue: each writer process opens the queue and a producer before the start, then
// sends its share into a fresh queue (a new directory each iteration).
void BM_Mmap_SustainedAppend(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const auto msg = message_of_size(kMessageBytes);
  for (auto _ : state) {
    const auto dir = fresh_dir("append");
    struct Writer {
      std::optional<orc::Orchestration> orch;
      std::optional<orc::Producer> producer;
    };
    const double seconds = run_processes(
        procs,
        [&](int) {
          auto writer = std::make_shared<Writer>();
          if (auto orch = orc::Orchestration::from_uri(queue_uri(dir))) {
            writer->orch.emplace(std::move(*orch));
            if (auto producer = orc::Producer::create(*writer->orch, "bench")) {
              writer->producer.emplace(std::move(*producer));
            }
          }
          return writer;
        },
        [&](int, const std::shared_ptr<Writer>& writer) {
          if (!writer->producer) return false;
          for (int i = 0; i < kMessages / procs; ++i) {
            if (writer->producer->send(msg) != orc::Status::kOk) return false;
          }
          return true;
        });
    if (seconds < 0) state.SkipWithError("a writer failed");
    state.SetIterationTime(seconds);
    std::filesystem::remove_all(dir);
  }
  finish(state, kMessages);
}

// --- Reading the same log ------------------------------------------------------------------

// Removes a directory when the program ends (a forked child's _exit skips it): each run's
// log is hundreds of MB, and many runs must not fill the disk.
struct RemovedAtExit {
  std::string path;
  ~RemovedAtExit() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// One log of kMessages messages, written once and read by every benchmark below.
const std::string& shared_log() {
  static const RemovedAtExit log{[] {
    auto path = fresh_dir("log");
    auto orch = orc::Orchestration::from_uri(queue_uri(path)).value();
    auto producer = orc::Producer::create(orch, "bench").value();
    const auto msg = message_of_size(kMessageBytes);
    for (int i = 0; i < kMessages; ++i) {
      if (producer.send(msg) != orc::Status::kOk) std::abort();
    }
    return path;
  }()};
  return log.path;
}

// The log's segment files, in order.
std::vector<std::filesystem::path> segment_files(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/bench")) {
    if (entry.path().extension() == ".seg") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// `file` mapped read-only (`flags` beside MAP_SHARED); aborts if it cannot be.
std::span<const std::uint8_t> map_segment(const std::filesystem::path& file, int flags) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  const auto size = static_cast<std::size_t>(std::filesystem::file_size(file));
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED | flags, fd, 0);
  if (fd >= 0) ::close(fd);
  if (data == MAP_FAILED) std::abort();
  return {static_cast<const std::uint8_t*>(data), size};
}

// The floors' work: memcpy of each record's payload out of one segment, stepping record by
// record as the reader does (header, payload, alignment), until `copied` reaches kMessages.
// With `verify`, each copy is then checked by FlatBuffers' generated verifier.
void copy_records(std::span<const std::uint8_t> segment, std::span<std::uint8_t> out,
                  std::uint64_t& checksum, int& copied, bool verify = false) {
  const std::size_t stride = (16 + out.size() + 7) & ~std::size_t{7};
  for (std::size_t offset = 64; offset + stride <= segment.size() && copied < kMessages;
       offset += stride) {
    std::memcpy(out.data(), segment.data() + offset + 16, out.size());
    if (verify) {
      flatbuffers::Verifier verifier(out.data(), out.size());
      if (!mes::wire::VerifyMessageBuffer(verifier)) std::abort();
    }
    checksum += out[out.size() / 2];
    ++copied;
  }
}

// The floor: the records' payloads copied out of the log's own segment files, mapped
// read-only and populated once before the timed runs.
// With argument 1, each copy is verified too.
void BM_Floor_Read(benchmark::State& state) {
  const bool verify = state.range(0) != 0;
  std::vector<std::span<const std::uint8_t>> maps;
  for (const auto& file : segment_files(shared_log())) {
    maps.push_back(map_segment(file, MAP_POPULATE));
  }
  std::vector<std::uint8_t> out(message_of_size(kMessageBytes).bytes().size());
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    int copied = 0;
    for (const auto segment : maps) copy_records(segment, out, checksum, copied, verify);
    benchmark::DoNotOptimize(checksum);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
  }
  finish(state, kMessages);
  for (const auto segment : maps)
    ::munmap(const_cast<std::uint8_t*>(segment.data()), segment.size());
}

// The floor as a process that has not read the files before meets it: the same memcpy, but
// each iteration maps the segment files afresh (inside the timed run) and unmaps them after,
// as the queue's reader does (a segment is unmapped once nothing views it). Every page is
// then new to this process's page tables, which costs microseconds a page in a VM with
// shadow page tables (bench/mmap_page_touch_bench.cpp) while the file is in the page cache.
void BM_FreshMapFloor_Read(benchmark::State& state) {
  const auto files = segment_files(shared_log());
  std::vector<std::uint8_t> out(message_of_size(kMessageBytes).bytes().size());
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    int copied = 0;
    for (const auto& file : files) {
      const auto segment = map_segment(file, 0);
      copy_records(segment, out, checksum, copied);
      ::munmap(const_cast<std::uint8_t*>(segment.data()), segment.size());
    }
    benchmark::DoNotOptimize(checksum);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
  }
  finish(state, kMessages);
}

// The queue: one consumer without a group receives every message (verified, zero copy).
// With `keep_mapped` (argument 1) one message of every 2,048 is kept across iterations, so
// every segment stays mapped in this process as the floor's files do: the difference from
// argument 0 is what new page-table entries cost the reader.
void BM_Mmap_ReadLog(benchmark::State& state) {
  const bool keep_mapped = state.range(0) != 0;
  const auto& dir = shared_log();
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  std::vector<mes::MLOpsMessage> batch;
  std::vector<mes::MLOpsMessage> kept;
  batch.reserve(256);
  std::uint64_t checksum = 0;
  for (auto _ : state) {
    auto consumer = orc::Consumer::create("bench", orch).value();
    const auto start = Clock::now();
    int received = 0;
    while (received < kMessages) {
      if (consumer.receive(batch, {}, std::chrono::seconds(1), 256) != orc::Status::kOk) break;
      for (const auto& m : batch) checksum += m.bytes().size();
      if (keep_mapped && received % 2048 == 0 && !batch.empty()) kept.push_back(batch.front());
      received += static_cast<int>(batch.size());
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    if (received != kMessages) state.SkipWithError("messages missing");
  }
  benchmark::DoNotOptimize(checksum);
  finish(state, kMessages);
}

// Competing consumers: `members` processes of one new group share the log, receiving
// batches of 256 with auto-commit, until the group has received every message.
void BM_Mmap_CompetingConsumers(benchmark::State& state) {
  const int members = static_cast<int>(state.range(0));
  const auto& dir = shared_log();
  auto* received = shared_counters() + 8;
  // Across repetitions too (each calls this function again): a group of its own per round,
  // or a repetition finds the group already at the end of the log.
  static int round = 0;
  for (auto _ : state) {
    received->store(0);
    const std::string group = "g" + std::to_string(members) + "-" + std::to_string(round++);
    struct Member {
      std::optional<orc::Orchestration> orch;
      std::optional<orc::Consumer> consumer;
    };
    const double seconds = run_processes(
        members,
        [&](int) {
          auto member = std::make_shared<Member>();
          if (auto orch = orc::Orchestration::from_uri(queue_uri(dir))) {
            member->orch.emplace(std::move(*orch));
            if (auto consumer = orc::Consumer::create("bench", *member->orch, {.group = group})) {
              member->consumer.emplace(std::move(*consumer));
            }
          }
          return member;
        },
        [&](int, const std::shared_ptr<Member>& member) {
          if (!member->consumer) return false;
          std::vector<mes::MLOpsMessage> batch;
          batch.reserve(256);
          const auto give_up = Clock::now() + std::chrono::seconds(60);
          while (received->load(std::memory_order_relaxed) < kMessages && Clock::now() < give_up) {
            (void)member->consumer->receive(batch, {}, std::chrono::milliseconds(5), 256);
            received->fetch_add(batch.size(), std::memory_order_relaxed);
          }
          return member->consumer->commit() == orc::Status::kOk;
        });
    if (seconds < 0 || received->load() < kMessages) state.SkipWithError("a member failed");
    state.SetIterationTime(seconds);
  }
  finish(state, kMessages);
}

// One run each with 1, 2 and 4 processes, timed by hand over the whole run (wall clock).
void over_1_2_4_processes(benchmark::internal::Benchmark* bench) {
  bench->Arg(1)->Arg(2)->Arg(4)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(BM_Floor_Append)->Apply(over_1_2_4_processes);
BENCHMARK(BM_FreshFileFloor_Append)->Apply(over_1_2_4_processes);
BENCHMARK(BM_Mmap_SustainedAppend)->Apply(over_1_2_4_processes);
BENCHMARK(BM_Floor_Read)
    ->ArgName("verified")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FreshMapFloor_Read)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mmap_ReadLog)
    ->ArgName("keep_mapped")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mmap_CompetingConsumers)->Apply(over_1_2_4_processes);

BENCHMARK_MAIN();
