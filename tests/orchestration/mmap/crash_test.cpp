// The kill -9 loop of RELIABILITY.md: a forked writer reports each acknowledged sequence
// number over a pipe and is killed, at a random moment or at a named point inside append();
// after every kill a fresh reader resumes from its group's committed cursor and checks that
// nothing acknowledged is lost, nothing torn or corrupt is delivered, nothing is delivered
// twice, and that reopening is quick. MLOPS_CRASH_CYCLES sets the number of cycles (200).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <string>

#include "orchestration/mmap/crash_points.h"
#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/log_writer.h"
#include "support/mmap_test_support.h"

namespace mq = mlops::orchestration::detail::mmap;

namespace {

int cycles_from_environment() {
  const char* text = std::getenv("MLOPS_CRASH_CYCLES");
  return text != nullptr ? std::max(1, std::atoi(text)) : 200;
}

std::string payload_for(std::uint64_t sequence) {
  // Lengths vary so records straddle segment ends and force rolls.
  const std::size_t filler = (sequence * 7919) % 700;
  return "seq:" + std::to_string(sequence) + ":" +
         std::string(filler, static_cast<char>('a' + sequence % 26));
}

// The writer process: appends from `first` on, acknowledging each over `ack_fd`, until killed.
[[noreturn]] void run_writer(const std::string& dir, std::uint64_t first, int ack_fd,
                             mq::CrashPoint point, std::int64_t crash_after) {
  auto queue = mq::Queue::open(dir, mlops::testing::small_segments(8192));
  if (!queue) ::_exit(10);
  auto log = (*queue)->topic("crash");
  if (!log) ::_exit(11);
  mq::LogWriter writer(*log);
  if (point != mq::CrashPoint::kNone) mq::arm_crash_point(point, crash_after);
  for (std::uint64_t sequence = first;; ++sequence) {
    const auto text = payload_for(sequence);
    if (!writer.append(mlops::testing::as_bytes(text))) ::_exit(12);
    if (::write(ack_fd, &sequence, sizeof sequence) != sizeof sequence) ::_exit(13);
  }
}

}  // namespace

TEST(MmapCrash, KillNineLoopLosesNothingAcknowledged) {
  mlops::testing::TempDir dir;
  const int cycles = cycles_from_environment();
  std::mt19937_64 rng(0xC0FFEE);
  std::set<std::uint64_t> acknowledged;
  std::set<std::uint64_t> delivered;
  std::uint64_t next_sequence = 0;
  std::uint64_t abandoned_claims = 0;
  int named_point_deaths = 0;
  std::chrono::steady_clock::duration slowest_reopen{};

  for (int cycle = 0; cycle < cycles; ++cycle) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    // Every fourth cycle dies at a named point; the rest at a random moment in its progress.
    static constexpr mq::CrashPoint kPoints[] = {
        mq::CrashPoint::kAfterClaim, mq::CrashPoint::kMidPayload, mq::CrashPoint::kBeforePublish};
    const bool named = cycle % 4 == 3;
    const auto point = named ? kPoints[(cycle / 4) % 3] : mq::CrashPoint::kNone;
    const auto crash_after = static_cast<std::int64_t>(rng() % 200);
    const auto kill_after_acks = 1 + rng() % 400;

    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      run_writer(dir.str(), next_sequence, fds[1], point, crash_after);
    }
    ::close(fds[1]);
    std::uint64_t sequence = 0;
    std::uint64_t acks = 0;
    while (::read(fds[0], &sequence, sizeof sequence) == sizeof sequence) {
      acknowledged.insert(sequence);
      if (!named && ++acks == kill_after_acks) ::kill(child, SIGKILL);
    }
    ::close(fds[0]);  // EOF: the writer is dead, every ack it wrote has been read.
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "cycle " << cycle << ": writer exited with status " << status;
    if (named) ++named_point_deaths;

    // A fresh reader, as a restarted process would be: nothing cached from before.
    const auto reopen_start = std::chrono::steady_clock::now();
    auto queue = mq::Queue::open(dir.str(), mlops::testing::small_segments(8192));
    ASSERT_TRUE(queue.has_value()) << queue.error().message;
    auto log = (*queue)->topic("crash");
    ASSERT_TRUE(log.has_value()) << log.error().message;
    auto cursor = mlops::testing::open_cursor(**log, "checker");
    ASSERT_TRUE(cursor.has_value()) << cursor.error().message;
    mq::LogReader reader(*log, cursor->committed().value_or((*log)->earliest()));
    std::uint64_t highest = next_sequence;
    mlops::testing::read_available(reader, [&](const mq::LogRecord& record) {
      const std::string text = mlops::testing::as_text(record.payload);
      ASSERT_TRUE(text.starts_with("seq:")) << "torn record delivered: " << text.substr(0, 40);
      const std::uint64_t seq = std::stoull(text.substr(4));
      ASSERT_EQ(text, payload_for(seq)) << "record content differs from what was written";
      ASSERT_TRUE(delivered.insert(seq).second) << "sequence " << seq << " delivered twice";
      highest = std::max(highest, seq + 1);
    });
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    slowest_reopen = std::max(slowest_reopen, std::chrono::steady_clock::now() - reopen_start);
    ASSERT_EQ(reader.damaged(), 0U) << "cycle " << cycle << ": corrupt records found";
    abandoned_claims += reader.abandoned();
    ASSERT_TRUE(cursor->commit(reader.position(), false).has_value());

    for (const auto acked : acknowledged) {
      ASSERT_TRUE(delivered.count(acked))
          << "cycle " << cycle << ": acknowledged " << acked << " lost";
    }
    next_sequence = std::max(highest, acknowledged.empty() ? 0 : *acknowledged.rbegin() + 1);
  }
  EXPECT_GT(acknowledged.size(), static_cast<std::size_t>(cycles));
  EXPECT_EQ(named_point_deaths, cycles / 4);
  EXPECT_GT(abandoned_claims, 0U) << "deaths between claim and publish left claims to skip";
  EXPECT_LT(slowest_reopen, std::chrono::seconds(5));
  std::printf(
      "crash loop: %d cycles, %zu acknowledged, %zu delivered, %llu abandoned claims, "
      "slowest reopen %lld us\n",
      cycles, acknowledged.size(), delivered.size(),
      static_cast<unsigned long long>(abandoned_claims),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::microseconds>(slowest_reopen).count()));
}
