// Attack LogReader::map_ahead: a reader following a writer at the tail, random seeks across
// segment boundaries, and retention deleting segments while records are held.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <filesystem>

#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/log_writer.h"
#include "orchestration/mmap/queue.h"

namespace mq = mlops::orchestration::detail::mmap;

static int failures = 0;
#define CHECK(c, ...) do { if (!(c)) { ++failures; std::fprintf(stderr, "FAIL %s:%d ", __FILE__, __LINE__); std::fprintf(stderr, __VA_ARGS__); std::fprintf(stderr, "\n"); } } while (0)

static std::string payload(std::uint64_t i) {
  // sizes from 0 to ~20 KiB so records straddle pages and the 4 MiB window
  std::size_t size = (i * 7919) % 20000;
  std::string s = std::to_string(i) + ":";
  s.resize(s.size() + size, static_cast<char>('a' + i % 26));
  return s;
}
static std::uint64_t seq_of(std::span<const std::uint8_t> p) {
  std::string s(reinterpret_cast<const char*>(p.data()), std::min<std::size_t>(p.size(), 24));
  return std::stoull(s.substr(0, s.find(':')));
}

int main(int argc, char** argv) {
  const std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  auto dir = std::filesystem::temp_directory_path() / ("mapahead-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  mq::QueueSettings settings;
  settings.log.segment_bytes = std::uint64_t{1} << 20;  // 1 MiB: records of ~10 KiB roll often
  settings.log.populate = false;
  settings.log.retention_bytes = std::uint64_t{3} << 20;
  settings.log.pending_timeout = std::chrono::milliseconds(500);
  auto queue = mq::Queue::open(dir.string(), settings);
  if (!queue) { std::fprintf(stderr, "open: %s\n", queue.error().message.c_str()); return 2; }
  auto log = *(*queue)->topic("t");
  auto cursor = mq::GroupCursor::open(log->groups(), "g", log->modes(), false);
  if (!cursor) { std::fprintf(stderr, "cursor\n"); return 2; }

  std::vector<std::uint64_t> positions(total, 0);
  std::atomic<std::uint64_t> written{0};
  std::thread writer_thread([&] {
    mq::LogWriter writer(log);
    for (std::uint64_t i = 0; i < total; ++i) {
      auto at = writer.append({reinterpret_cast<const std::uint8_t*>(payload(i).data()), payload(i).size()});
      if (!at) { std::fprintf(stderr, "append %llu: %s\n", (unsigned long long)i, at.error().message.c_str()); std::abort(); }
      positions[i] = *at;
      written.store(i + 1, std::memory_order_release);
    }
  });
  // Follower at the tail: every record in order, exactly once; holds every 100th record's
  // owner while retention (driven by the group's commits) deletes segments.
  mq::LogReader reader(log, log->earliest());
  std::vector<mq::LogRecord> held;
  std::uint64_t expect = 0;
  std::mt19937_64 rng(42);
  std::uint64_t seeks = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (expect < total && std::chrono::steady_clock::now() < deadline) {
    mq::LogRecord record;
    if (!reader.next(record)) { std::this_thread::yield(); continue; }
    const auto seq = seq_of(record.payload);
    CHECK(seq == expect, "follower got %llu expected %llu", (unsigned long long)seq, (unsigned long long)expect);
    if (seq != expect) break;
    const auto want = payload(seq);
    CHECK(record.payload.size() == want.size() && std::memcmp(record.payload.data(), want.data(), want.size()) == 0,
          "payload %llu differs", (unsigned long long)seq);
    if (seq % 100 == 0) held.push_back(record);
    ++expect;
    // The group commits what the follower read (retention may then delete behind it).
    if (seq % 50 == 0) (void)cursor->commit(record.next, false);
    // Now and then a seek back or forward among records still held, read a few, come back.
    if (seq % 997 == 0 && seq > 0) {
      ++seeks;
      const std::uint64_t avail = written.load(std::memory_order_acquire);
      const std::uint64_t low = seq > 300 ? seq - 300 : 0;
      const std::uint64_t target = low + rng() % (avail - low);
      reader.seek(positions[target]);
      for (std::uint64_t k = target; k < std::min(avail, target + 20); ++k) {
        mq::LogRecord r;
        if (!reader.next(r)) { CHECK(false, "seek read %llu none", (unsigned long long)k); break; }
        CHECK(seq_of(r.payload) == k, "after seek to %llu got %llu", (unsigned long long)k,
              (unsigned long long)seq_of(r.payload));
      }
      reader.seek(record.next);
    }
  }
  writer_thread.join();
  CHECK(expect == total, "follower read %llu of %llu", (unsigned long long)expect, (unsigned long long)total);
  CHECK(reader.damaged() == 0, "damaged %llu", (unsigned long long)reader.damaged());
  // Held records stay readable though their segments may be deleted.
  std::size_t deleted_ok = 0;
  for (const auto& r : held) {
    const auto seq = seq_of(r.payload);
    const auto want = payload(seq);
    CHECK(std::memcmp(r.payload.data(), want.data(), want.size()) == 0, "held %llu changed", (unsigned long long)seq);
    ++deleted_ok;
  }
  std::printf("first_segment=%llu seeks=%llu held=%zu lost=%llu failures=%d\n",
              (unsigned long long)log->control().first_segment.load(), (unsigned long long)seeks,
              deleted_ok, (unsigned long long)reader.lost_to_retention(), failures);
  held.clear();

  std::filesystem::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
