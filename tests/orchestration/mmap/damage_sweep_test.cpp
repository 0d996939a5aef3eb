// The damage sweep: a small queue (records over several segments, a consumer group with a
// committed cursor) is damaged one way at a time, and a producer and two consumers are
// opened on the result. Every single-bit flip of the control block; and zeroed ranges,
// flipped bits, truncations, garbage and deletions of segment files at random positions.
// Each call must return within its timeout, with kOk or an error: no crash, no hang.
// Records delivered must be ones that were written (the CRC and verification hold).
#include <gtest/gtest.h>
#include <mlops/log.h>
#include <mlops/orchestration.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "orchestration/mmap/layout.h"
#include "support/mmap_test_support.h"

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
namespace mq = mlops::orchestration::detail::mmap;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRecords = 60;
constexpr auto kCallBound = 3s;  // A receive that does not wait, or an open, is back by then.

std::string uri_of(const fs::path& dir) {
  return "mmap://" + dir.string() + "?segment_bytes=4096&populate=false&pending_timeout_ms=50";
}

mes::MLOpsMessage numbered(int n) {
  return mes::MessageBuilder()
      .with_user_msg("record " + std::to_string(n) + std::string(n * 7 % 300, '.'))
      .build();
}

// The queue every case starts from.
void make_template(const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  auto orch = orc::Orchestration::from_uri(uri_of(dir)).value();
  auto producer = orc::Producer::create(orch, "t").value();
  for (int i = 0; i < kRecords; ++i) ASSERT_EQ(producer.send(numbered(i)), orc::Status::kOk);
  ASSERT_EQ(producer.flush(5s), orc::Status::kOk);
  auto consumer = orc::Consumer::create("t", orch, {.group = "g", .auto_commit = false}).value();
  std::size_t got = 0;
  const auto deadline = Clock::now() + 5s;
  while (got < kRecords / 2 && Clock::now() < deadline)
    got += consumer.receive({}, 100ms, kRecords / 2 - got).size();
  ASSERT_EQ(got, static_cast<std::size_t>(kRecords / 2));
  ASSERT_EQ(consumer.commit(), orc::Status::kOk);
}

std::set<std::string> g_written;

struct Outcome {
  std::size_t delivered = 0;
  bool sent = false;  // The producer's sends were accepted after the damage.
};

// Opens a producer and two consumers on the damaged queue in `dir`; every call is timed.
Outcome exercise(const fs::path& dir, const std::string& what) {
  Outcome outcome;
  auto timed =
      [&](const char* call, auto&& body) {
        const auto start = Clock::now();
        body();
        const auto took = Clock::now() - start;
        EXPECT_LT(took, kCallBound)
            << what << ": " << call << " took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
      };
  std::optional<orc::Orchestration> orch;
  timed("open", [&] {
    auto opened = orc::Orchestration::from_uri(uri_of(dir));
    if (opened) orch = std::move(*opened);
  });
  if (!orch) return outcome;
  timed("send", [&] {
    auto producer = orc::Producer::create(*orch, "t");
    if (!producer) return;
    outcome.sent = true;
    for (int i = 0; i < 3; ++i)
      outcome.sent &= producer->send(numbered(kRecords + i)) == orc::Status::kOk;
    (void)producer->flush(1s);
  });
  for (const char* group : {"g", "h"}) {
    auto consumer = orc::Consumer::create("t", *orch, {.group = group});
    if (!consumer) continue;
    for (int round = 0; round < 4 * kRecords; ++round) {
      std::vector<mes::MLOpsMessage> batch;
      timed("receive", [&] { batch = consumer->receive({}, 0ms); });
      if (batch.empty()) break;
      for (const auto& msg : batch) {
        EXPECT_TRUE(g_written.count(std::string(msg.user_message().value_or(""))))
            << what << ": forged record";
      }
      outcome.delivered += batch.size();
    }
  }
  return outcome;
}

void flip_bit(const fs::path& file, std::size_t bit) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekg(static_cast<std::streamoff>(bit / 8));
  char byte = 0;
  stream.read(&byte, 1);
  byte = static_cast<char>(byte ^ (1 << (bit % 8)));
  stream.seekp(static_cast<std::streamoff>(bit / 8));
  stream.write(&byte, 1);
}

class DamageSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::remove_all(root_);
    for (int i = 0; i < kRecords + 3; ++i)
      g_written.insert(std::string(numbered(i).user_message().value_or("")));
    make_template(root_ / "template");
    // Damage is logged by design; thousands of cases would drown the test's own output.
    mlops::set_log_handler([](mlops::LogLevel, std::string_view) {});
  }
  void TearDown() override {
    mlops::set_log_handler({});
    fs::remove_all(root_);
  }
  fs::path fresh_case() {
    const fs::path dir = root_ / "case";
    fs::remove_all(dir);
    fs::copy(root_ / "template", dir, fs::copy_options::recursive);
    return dir;
  }
  std::vector<fs::path> segments(const fs::path& dir) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir / "t")) {
      if (entry.path().extension() == ".seg") found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());
    return found;
  }
  fs::path root_ = mlops::testing::scratch_root("mlops-damage");
};

}  // namespace

TEST_F(DamageSweep, EveryBitOfTheControlBlockFlipped) {
  int usable = 0;
  const std::size_t bits = sizeof(mq::ControlBlock) * 8;
  for (std::size_t bit = 0; bit < bits; ++bit) {
    const fs::path dir = fresh_case();
    flip_bit(dir / "t" / "control", bit);
    usable += exercise(dir, "control bit " + std::to_string(bit)).sent ? 1 : 0;
    ASSERT_FALSE(HasFailure()) << "control bit " << bit;
  }
  std::printf(
      "damage sweep: %zu control-block bit flips, %d repaired and written to, the rest "
      "refused with an error\n",
      bits, usable);
  EXPECT_GT(usable, static_cast<int>(bits) * 9 / 10) << "most flips are repairable";
}

TEST_F(DamageSweep, SegmentsZeroedFlippedTruncatedReplacedOrDeleted) {
  std::mt19937_64 rng(0xDA3A6E);
  constexpr int kCases = 400;
  std::size_t delivered = 0;
  for (int n = 0; n < kCases; ++n) {
    const fs::path dir = fresh_case();
    const auto files = segments(dir);
    ASSERT_GE(files.size(), 3U);
    const fs::path victim = files[rng() % files.size()];
    const std::uint64_t size = fs::file_size(victim);
    const std::uint64_t at = rng() % size;
    std::string what;
    switch (n % 5) {
      case 0: {  // A zeroed range (a lost write-back of part of a page).
        const std::uint64_t length = 1 + rng() % 1024;
        std::fstream stream(victim, std::ios::in | std::ios::out | std::ios::binary);
        stream.seekp(static_cast<std::streamoff>(at));
        const std::string zeros(std::min(length, size - at), '\0');
        stream.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
        what = "zeroed " + std::to_string(zeros.size()) + " bytes at " + std::to_string(at);
        break;
      }
      case 1:
        for (int k = 0; k < 8; ++k) flip_bit(victim, rng() % (size * 8));
        what = "8 random bits flipped";
        break;
      case 2:
        fs::resize_file(victim, at);
        what = "truncated to " + std::to_string(at);
        break;
      case 3: {
        std::ofstream garbage(victim, std::ios::binary | std::ios::trunc);
        for (std::uint64_t i = 0; i < size; i += 8) {
          const std::uint64_t word = rng();
          garbage.write(reinterpret_cast<const char*>(&word), 8);
        }
        what = "replaced with garbage";
        break;
      }
      case 4:
        fs::remove(victim);
        what = "deleted";
        break;
    }
    delivered += exercise(dir, victim.filename().string() + " " + what).delivered;
    ASSERT_FALSE(HasFailure()) << victim.filename() << " " << what;
  }
  std::printf("damage sweep: %d segment damages, %zu records delivered, 0 forged, 0 hangs\n",
              kCases, delivered);
}
