// What a writer's first store to each page of a segment costs after the page was made ready
// in different ways, beside storing to pages this process has stored to before (the floor).
// Why it exists: on this project's VM (a hypervisor with shadow page tables) a page the kernel
// mapped for a process (MADV_POPULATE_WRITE, as the segment preparer does) still costs
// microseconds at the process's first user access, which lands in the writer's memcpy; on
// bare metal these figures should be close to the floor. 200-byte records, as mmap_scale_bench.
// Each iteration maps the same cached 64 MiB file afresh; only the write pass is timed.
// BM_FirstWritePassByProcesses shows what that means for several writer processes: each
// pays for every page it stores into, and interleaved records make that every page.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kFileBytes = std::size_t{64} << 20;
constexpr std::size_t kRecordBytes = 216;  // A 200-byte payload and its 16-byte header.
constexpr std::size_t kPayloadBytes = 200;

enum class Ready { kNothing, kPopulateWrite, kPopulateWriteAndReadByAnotherThread, kTouchedBefore };

// The file, in the page cache before any benchmark maps it.
int cached_file() {
  static const int fd = [] {
    const auto path =
        std::filesystem::temp_directory_path() / ("mlops-page-touch-" + std::to_string(::getpid()));
    const int made =
        ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (made < 0 || ::posix_fallocate(made, 0, kFileBytes) != 0) std::abort();
    ::unlink(path.c_str());  // Gone with the process.
    void* data = ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, made, 0);
    if (data == MAP_FAILED) std::abort();
    std::memset(data, 1, kFileBytes);
    ::munmap(data, kFileBytes);
    return made;
  }();
  return fd;
}

void write_records(std::uint8_t* data) {
  std::uint8_t payload[kPayloadBytes];
  std::memset(payload, 2, sizeof payload);
  for (std::size_t offset = 0; offset + kRecordBytes <= kFileBytes; offset += kRecordBytes) {
    std::memcpy(data + offset + 16, payload, sizeof payload);
  }
  benchmark::ClobberMemory();
}

void BM_FirstWritePass(benchmark::State& state) {
  const auto ready = static_cast<Ready>(state.range(0));
  const int fd = cached_file();
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (auto _ : state) {
    auto* data = static_cast<std::uint8_t*>(
        ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    if (data == MAP_FAILED) std::abort();
    if (ready != Ready::kNothing) (void)::madvise(data, kFileBytes, MADV_POPULATE_WRITE);
    if (ready == Ready::kPopulateWriteAndReadByAnotherThread) {
      std::thread([&] {
        std::uint8_t sum = 0;
        for (std::size_t offset = 0; offset < kFileBytes; offset += page) {
          sum = static_cast<std::uint8_t>(
              sum + *static_cast<const volatile std::uint8_t*>(data + offset));
        }
        benchmark::DoNotOptimize(sum);
      }).join();
    }
    if (ready == Ready::kTouchedBefore) write_records(data);
    const auto start = std::chrono::steady_clock::now();
    write_records(data);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ::munmap(data, kFileBytes);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<std::int64_t>(kFileBytes / kRecordBytes));
}

// `procs` processes (forked, each mapping the cached file afresh after MADV_POPULATE_WRITE)
// store every record once between them, as the queue's writer processes do: with
// `interleaved` record by record (a shared tail hands out the next slot to whoever asks, so
// every process stores into every page), otherwise each into its own contiguous part. The
// time is from the fork until the last one is done (the mapping included).
void BM_FirstWritePassByProcesses(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const bool interleaved = state.range(1) != 0;
  const int fd = cached_file();
  const std::size_t records = kFileBytes / kRecordBytes;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<pid_t> children;
    for (int p = 0; p < procs; ++p) {
      const pid_t child = ::fork();
      if (child == 0) {
        auto* data = static_cast<std::uint8_t*>(
            ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        if (data == MAP_FAILED) ::_exit(1);
        (void)::madvise(data, kFileBytes, MADV_POPULATE_WRITE);
        std::uint8_t payload[kPayloadBytes];
        std::memset(payload, 3, sizeof payload);
        const auto share = static_cast<std::size_t>(procs);
        const auto me = static_cast<std::size_t>(p);
        for (std::size_t i = 0; i < records / share; ++i) {
          const std::size_t record = interleaved ? i * share + me : me * (records / share) + i;
          std::memcpy(data + record * kRecordBytes + 16, payload, sizeof payload);
        }
        ::_exit(0);
      }
      children.push_back(child);
    }
    bool ok = true;
    for (const pid_t child : children) {
      int status = 0;
      ::waitpid(child, &status, 0);
      ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    if (!ok) state.SkipWithError("a writer process failed");
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records));
}

}  // namespace

BENCHMARK(BM_FirstWritePassByProcesses)
    ->ArgNames({"procs", "interleaved"})
    ->Args({1, 0})
    ->Args({2, 1})
    ->Args({2, 0})
    ->Args({4, 1})
    ->Args({4, 0})
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_FirstWritePass)
    ->ArgName(
        "ready")  // 0 nothing, 1 MADV_POPULATE_WRITE, 2 that and a read per page, 3 written before
    ->Arg(static_cast<int>(Ready::kTouchedBefore))
    ->Arg(static_cast<int>(Ready::kNothing))
    ->Arg(static_cast<int>(Ready::kPopulateWrite))
    ->Arg(static_cast<int>(Ready::kPopulateWriteAndReadByAnotherThread))
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
