// A consumer SIGKILLed between Consumer::retry() returning and the retry's delay passing
// loses nothing: the retried message always reaches its group again, no earlier than due.
// Killed at three points: right after retry(), after the commit that covers the original,
// and while it holds the copy it read back from the retry topic. Cycles:
// MLOPS_RETRY_CRASH_CYCLES (default 30).
#include <gtest/gtest.h>
#include <mlops/messaging.h>
#include <mlops/orchestration.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "support/mmap_test_support.h"

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using mlops::testing::TempDir;

namespace {

constexpr const char* kTopic = "jobs";
constexpr const char* kGroup = "stage";

enum class KillPoint { kAfterRetry, kAfterCommit, kWhileHeld };

int cycles() {
  const char* text = std::getenv("MLOPS_RETRY_CRASH_CYCLES");
  const int n = text ? std::atoi(text) : 0;
  return n > 0 ? n : 30;
}

// The child: receives `job`, retries it, and dies by SIGKILL at `point`. Exit codes other
// than death by SIGKILL say what went wrong first.
int retry_then_die(const std::string& uri, const std::string& job, KillPoint point,
                   std::chrono::milliseconds delay) {
  auto orch = orc::Orchestration::from_uri(uri);
  if (!orch) return 10;
  auto con = orc::Consumer::create(kTopic, *orch, {.group = kGroup});
  if (!con) return 11;
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    for (const auto& msg : con->receive(100ms)) {
      if (msg.user_message() != job || msg.retries() != 0) continue;
      if (con->retry(msg, delay, "killed") != orc::Status::kOk) return 12;
      if (point == KillPoint::kAfterRetry) ::raise(SIGKILL);
      if (con->commit() != orc::Status::kOk) return 13;
      if (point == KillPoint::kWhileHeld) {
        // Long enough for the retry topic to be read (the copy is then held, not yet due)
        // and for receive()'s auto-commit to run; short of the delay.
        const auto until = Clock::now() + delay / 2;
        while (Clock::now() < until) {
          if (!con->receive(50ms).empty()) return 14;  // the copy came early
          (void)con->commit();
        }
      }
      ::raise(SIGKILL);
    }
  }
  return 15;  // never got the job
}

class RetryCrash : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(RetryCrash, KilledAfterRetryLosesNothing) {
  const std::string uri = "mmap://" + dir_.str() + "?segment_bytes=65536&populate=false";
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto producer = orc::Producer::create(orch, kTopic).value();
  const int total = cycles();
  int recovered = 0;
  for (int cycle = 0; cycle < total; ++cycle) {
    const auto point = static_cast<KillPoint>(cycle % 3);
    const auto delay = point == KillPoint::kWhileHeld ? 600ms : 150ms;
    const std::string job = "job-" + std::to_string(cycle);
    ASSERT_EQ(producer.send(mes::MessageBuilder().with_user_msg(job).build()), orc::Status::kOk);

    const pid_t child = ::fork();
    if (child == 0) {
      ::alarm(30);  // a child that hangs dies by SIGALRM, which fails the check below
      ::_exit(retry_then_die(uri, job, point, delay));
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "cycle " << cycle << ": the child exited with " << WEXITSTATUS(status);

    auto con = orc::Consumer::create(kTopic, orch, {.group = kGroup}).value();
    bool got_retry = false;
    const auto deadline = Clock::now() + 10s;
    while (!got_retry && Clock::now() < deadline) {
      for (const auto& msg : con.receive(100ms)) {
        if (msg.user_message() != job || msg.retries() != 1) continue;  // the original again
        const auto due = msg.additional_argument("mlops.retry_due_ns");
        ASSERT_TRUE(due && due->as_int());
        EXPECT_GE(mes::unix_now_ns(), *due->as_int()) << "cycle " << cycle << ": early";
        got_retry = true;
      }
    }
    ASSERT_TRUE(got_retry) << "cycle " << cycle << " (kill point " << cycle % 3
                           << "): the retried message was lost";
    ASSERT_EQ(con.commit(), orc::Status::kOk);
    con.close();
    ++recovered;
  }
  EXPECT_EQ(recovered, total);
}

}  // namespace
