// One-way latency between two processes through the mmap queue, beside the same through a
// memcpy into a shared mapped ring, in the same run (issue 13).
//
// A producer process sends 200-byte messages at a fixed rate (100 k/s), each stamped with
// CLOCK_MONOTONIC just before it is sent; a consumer process receives them and records
// now - stamp. The producer sleeps between messages. Two ways to wait, each on both paths:
//   spin (sleep:0): the consumer polls without sleeping (the queue's receive with a zero
//     timeout; the ring's reader spins on its sequence word): the paths alone, which an
//     idle core shows; on a busy machine a spinning process uses up its share and then
//     waits whole time slices, and both figures are the scheduler's.
//   sleep (sleep:1): the consumer sleeps when there is nothing (the queue's receive with a
//     timeout: its futex; the ring's reader on a futex the producer wakes, the same Dekker
//     pair of a waiter count and a wake word), as a real stage does.
// Rounds alternate (ring, queue, ring, queue) so that a change in the machine's load falls
// on both. The first kWarmup samples of each round are left out (page faults of a fresh log
// and ring). Counters: p50 and p99 of each, in microseconds, and the queue's over the
// ring's. Without idle cores only the p50 ratio means much.
#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <mlops/orchestration.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;

namespace {

constexpr std::size_t kMessageBytes = 200;
constexpr int kRate = 100'000;      // messages per second
constexpr int kPerRound = 100'000;  // one second at kRate
constexpr int kRounds = 2;          // per path
constexpr int kWarmup = 1'000;      // samples of each round left out
constexpr int kStampDigits = 16;    // the stamp, as hex text at the start of user_msg
constexpr auto kGiveUp = std::chrono::seconds(20);

std::int64_t now_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void write_stamp(std::uint8_t* at, std::int64_t stamp) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  auto value = static_cast<std::uint64_t>(stamp);
  for (int i = kStampDigits - 1; i >= 0; --i, value >>= 4)
    at[i] = static_cast<std::uint8_t>(kHex[value & 15]);
}

std::int64_t read_stamp(std::string_view text) noexcept {
  std::uint64_t value = 0;
  for (int i = 0; i < kStampDigits && i < static_cast<int>(text.size()); ++i) {
    const char c = text[static_cast<std::size_t>(i)];
    value = value << 4 | static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return static_cast<std::int64_t>(value);
}

// A message of about kMessageBytes whose user_msg starts with kStampDigits placeholder
// characters; `stamp_offset` is where they are in its bytes.
std::vector<std::uint8_t> stamped_message(std::size_t& stamp_offset) {
  const std::string marker(kStampDigits, 'T');
  const auto base = mes::MessageBuilder()
                        .with_msg_type(mes::MessageType::INPROGRESS)
                        .with_user_msg(marker)
                        .build();
  const std::size_t filler =
      kMessageBytes > base.bytes().size() ? kMessageBytes - base.bytes().size() : 0;
  const auto msg = mes::MessageBuilder()
                       .with_msg_type(mes::MessageType::INPROGRESS)
                       .with_user_msg(marker + std::string(filler, 'x'))
                       .build();
  std::vector<std::uint8_t> bytes(msg.bytes().begin(), msg.bytes().end());
  const auto found = std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end());
  if (found == bytes.end()) std::abort();
  stamp_offset = static_cast<std::size_t>(found - bytes.begin());
  return bytes;
}

// What the consumer process hands back: its latencies, in a shared anonymous mapping.
struct Shared {
  std::atomic<int> consumer_ready{0};
  std::atomic<int> count{0};
  std::int64_t latency_ns[kPerRound];
};

Shared* shared_page() {
  static auto* shared = [] {
    void* memory =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) std::abort();
    return static_cast<Shared*>(memory);
  }();
  return shared;
}

// Sends kPerRound messages at kRate: each one at its slot's time, stamped just before. The
// producer sleeps until then (timer slack cut to a microsecond) rather than spin, leaving
// the other core to the consumer; one woken late sends the ones due at once.
template <typename Send>
bool paced(Send send) {
  (void)::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  const std::int64_t interval = 1'000'000'000 / kRate;
  const std::int64_t start = now_ns() + 1'000'000;
  for (int i = 0; i < kPerRound; ++i) {
    const std::int64_t due = start + i * interval;
    if (due > now_ns()) {
      const timespec until{static_cast<time_t>(due / 1'000'000'000),
                           static_cast<long>(due % 1'000'000'000)};
      while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
      }
    }
    if (!send(now_ns())) return false;
  }
  return true;
}

// Forks the consumer (`consume`, which sets consumer_ready once it can receive) and the
// producer (`produce`, started once the consumer is ready). False if either failed.
template <typename Consume, typename Produce>
bool run_pair(Consume consume, Produce produce) {
  auto* shared = shared_page();
  shared->consumer_ready.store(0);
  shared->count.store(0);
  const pid_t consumer = ::fork();
  if (consumer == 0) ::_exit(consume(*shared) ? 0 : 1);
  const auto give_up = std::chrono::steady_clock::now() + kGiveUp;
  while (shared->consumer_ready.load() == 0 && std::chrono::steady_clock::now() < give_up) {
  }
  const pid_t producer = ::fork();
  if (producer == 0) ::_exit(produce() ? 0 : 1);
  bool ok = true;
  for (const pid_t child : {producer, consumer}) {
    int status = 0;
    ::waitpid(child, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok && shared->count.load() == kPerRound;
}

// --- The baseline: memcpy into a shared mapped ring ------------------------------------------

// One slot per message of a round: the ring never laps a reader that was preempted.
constexpr int kRingSlots = kPerRound;
// How a sleeping ring reader and the producer meet (the queue's own scheme, for the ring).
struct RingWake {
  std::atomic<std::uint32_t> word{0};
  std::atomic<std::uint32_t> waiters{0};
};

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  const timespec slice{0, 100'000'000};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &slice,
            nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}
struct alignas(64) RingSlot {
  std::atomic<std::uint64_t> sequence{0};  // the message number + 1, stored last (release)
  std::uint32_t size = 0;
  std::uint8_t payload[kMessageBytes + 64];
};

bool ring_round(const std::vector<std::uint8_t>& message, std::size_t stamp_offset, bool sleep) {
  void* memory = ::mmap(nullptr, sizeof(RingSlot) * kRingSlots + sizeof(RingWake),
                        PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (memory == MAP_FAILED) return false;
  auto* ring = new (memory) RingSlot[kRingSlots];
  auto* wake = new (static_cast<std::uint8_t*>(memory) + sizeof(RingSlot) * kRingSlots) RingWake;
  const bool ok = run_pair(
      [&](Shared& shared) {
        std::vector<std::uint8_t> out(message.size());
        shared.consumer_ready.store(1);
        const auto give_up = std::chrono::steady_clock::now() + kGiveUp;
        for (int i = 0; i < kPerRound; ++i) {
          RingSlot& slot = ring[i % kRingSlots];
          const auto ready = [&] {
            return slot.sequence.load(std::memory_order_seq_cst) ==
                   static_cast<std::uint64_t>(i) + 1;
          };
          for (std::uint64_t spins = 1; !ready(); ++spins) {
            if (spins % 4096 == 0 && std::chrono::steady_clock::now() > give_up) return false;
            if (!sleep) continue;
            wake->waiters.fetch_add(1, std::memory_order_seq_cst);
            const std::uint32_t expected = wake->word.load(std::memory_order_seq_cst);
            if (!ready()) futex_wait(wake->word, expected);
            wake->waiters.fetch_sub(1, std::memory_order_seq_cst);
          }
          std::memcpy(out.data(), slot.payload, slot.size);
          const std::string_view text(reinterpret_cast<const char*>(out.data()) + stamp_offset,
                                      kStampDigits);
          shared.latency_ns[i] = now_ns() - read_stamp(text);
          shared.count.store(i + 1, std::memory_order_relaxed);
        }
        return true;
      },
      [&] {
        std::vector<std::uint8_t> bytes = message;
        int i = 0;
        return paced([&](std::int64_t stamp) {
          write_stamp(bytes.data() + stamp_offset, stamp);
          RingSlot& slot = ring[i % kRingSlots];
          std::memcpy(slot.payload, bytes.data(), bytes.size());
          slot.size = static_cast<std::uint32_t>(bytes.size());
          slot.sequence.store(static_cast<std::uint64_t>(i) + 1, std::memory_order_seq_cst);
          if (wake->waiters.load(std::memory_order_seq_cst) != 0) {
            wake->word.fetch_add(1, std::memory_order_seq_cst);
            futex_wake(wake->word);
          }
          ++i;
          return true;
        });
      });
  ::munmap(memory, sizeof(RingSlot) * kRingSlots + sizeof(RingWake));
  return ok;
}

// --- The queue ---------------------------------------------------------------------------------

bool queue_round(const std::vector<std::uint8_t>& message, std::size_t stamp_offset, int round,
                 bool sleep) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mlops-latency-" + std::to_string(::getpid()) + "-" + std::to_string(round));
  std::filesystem::remove_all(dir);
  const std::string uri = "mmap://" + dir.string();
  const bool ok = run_pair(
      [&](Shared& shared) {
        auto orch = orc::Orchestration::from_uri(uri);
        if (!orch) return false;
        auto consumer = orc::Consumer::create("latency", *orch);
        if (!consumer) return false;
        std::vector<mes::MLOpsMessage> batch;
        batch.reserve(256);
        // One receive first: the subscription is in place before the producer starts.
        (void)consumer->receive(batch, {}, std::chrono::milliseconds(0), 256);
        shared.consumer_ready.store(1);
        const auto give_up = std::chrono::steady_clock::now() + kGiveUp;
        int received = 0;
        while (received < kPerRound && std::chrono::steady_clock::now() < give_up) {
          const auto wait = std::chrono::milliseconds(sleep ? 100 : 0);
          if (consumer->receive(batch, {}, wait, 256) != orc::Status::kOk) continue;
          const std::int64_t now = now_ns();
          for (const auto& m : batch) {
            if (received == kPerRound) break;
            const auto text = m.user_message();
            if (!text) return false;
            shared.latency_ns[received++] = now - read_stamp(*text);
          }
          shared.count.store(received, std::memory_order_relaxed);
        }
        return received == kPerRound;
      },
      [&] {
        auto orch = orc::Orchestration::from_uri(uri);
        if (!orch) return false;
        auto producer = orc::Producer::create(*orch, "latency");
        if (!producer) return false;
        std::vector<std::uint8_t> bytes = message;
        return paced([&](std::int64_t stamp) {
          write_stamp(bytes.data() + stamp_offset, stamp);
          return producer->send_raw("latency", bytes) == orc::Status::kOk;
        });
      });
  std::filesystem::remove_all(dir);
  return ok;
}

double percentile(std::vector<std::int64_t>& samples, double fraction) {
  if (samples.empty()) return 0;
  const auto at = static_cast<std::size_t>(fraction * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(at),
                   samples.end());
  return static_cast<double>(samples[at]) / 1000.0;
}

void keep(std::vector<std::int64_t>& samples) {
  const auto* shared = shared_page();
  samples.insert(samples.end(), shared->latency_ns + kWarmup, shared->latency_ns + kPerRound);
}

void BM_Latency_OneWay(benchmark::State& state) {
  const bool sleep = state.range(0) != 0;
  std::size_t stamp_offset = 0;
  const auto message = stamped_message(stamp_offset);
  std::vector<std::int64_t> ring;
  std::vector<std::int64_t> queue;
  int round = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < kRounds; ++r) {
      if (!ring_round(message, stamp_offset, sleep)) {
        state.SkipWithError("the ring round failed");
        return;
      }
      keep(ring);
      if (!queue_round(message, stamp_offset, round++, sleep)) {
        state.SkipWithError("the queue round failed (a message lost, or a process failed)");
        return;
      }
      keep(queue);
    }
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const double ring_p50 = percentile(ring, 0.50);
  const double ring_p99 = percentile(ring, 0.99);
  const double queue_p50 = percentile(queue, 0.50);
  const double queue_p99 = percentile(queue, 0.99);
  state.counters["ring_p50_us"] = ring_p50;
  state.counters["ring_p99_us"] = ring_p99;
  state.counters["mmap_p50_us"] = queue_p50;
  state.counters["mmap_p99_us"] = queue_p99;
  state.counters["p50_ratio"] = ring_p50 > 0 ? queue_p50 / ring_p50 : 0;
  state.counters["p99_ratio"] = ring_p99 > 0 ? queue_p99 / ring_p99 : 0;
  state.SetItemsProcessed(static_cast<std::int64_t>(ring.size() + queue.size()));
}

}  // namespace

BENCHMARK(BM_Latency_OneWay)
    ->ArgName("sleep")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
