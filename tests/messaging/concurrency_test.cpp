// What may happen from several threads at once: ids, shared reads and copies of one
// message, and logging while the handler is swapped. Run under TSan in CI.
#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/sample_messages.h"

namespace mes = mlops::messaging;

TEST(Concurrency, IdsFromManyThreadsNeverCollide) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50'000;
  std::vector<std::vector<mes::MessageId>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      mes::MessageBuilder builder;  // One builder per thread, as documented.
      for (int i = 0; i < kPerThread; ++i) per_thread[t].push_back(*builder.build_view().id());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<mes::MessageId> all;
  for (const auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(Concurrency, ManyThreadsReadAndCopyOneMessage) {
  const auto msg = mlops::testing::make_full_message();
  const auto expected = mlops::testing::read_everything(msg);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const mes::MLOpsMessage copy = msg;  // Reference count shared across threads.
        if (mlops::testing::read_everything(copy) != expected) mismatches.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Concurrency, LoggingWhileTheHandlerChanges) {
  std::atomic<int> received{0};
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    for (int i = 0; i < 200; ++i) {
      mlops::set_log_handler([&](mlops::LogLevel, std::string_view) { received.fetch_add(1); });
    }
    stop = true;
  });
  std::vector<std::thread> loggers;
  for (int t = 0; t < 2; ++t) {
    loggers.emplace_back([&] {
      while (!stop.load()) (void)mes::normalize_creator_type("no such creator");
    });
  }
  swapper.join();
  for (auto& logger : loggers) logger.join();
  (void)mes::normalize_creator_type("one more after the last swap");
  mlops::set_log_handler(nullptr);
  EXPECT_GT(received.load(), 0);
}

// Builders made per message take their memory from a per-thread spare; a builder dropped on
// another thread than it was made on becomes that thread's spare.
TEST(Concurrency, FreshBuildersOnManyThreadsAndBuildersDroppedOnOthers) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2'000;
  std::vector<std::vector<mes::MessageBuilder>> handed_over(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < 50; ++i) handed_over[t].emplace_back().with_creator("made on main");
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string mine = "thread " + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        const auto msg = mes::MessageBuilder()
                             .with_creator(mine)
                             .with_retries(i)
                             .with_additional_argument("i", i)
                             .build();
        if (msg.creator() != mine || msg.retries() != i ||
            msg.additional_argument("i")->as_int() != i) {
          mismatches.fetch_add(1);
        }
        if (i % 40 == 0 && !handed_over[t].empty()) {
          auto builder = std::move(handed_over[t].back());
          handed_over[t].pop_back();
          if (builder.build().creator() != "made on main") mismatches.fetch_add(1);
        }  // dropped here, on this thread
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// fork() copies the forking thread's spare with the rest of memory: the child builds on.
TEST(Concurrency, AChildProcessBuildsWithTheSpareItInherited) {
  (void)mes::MessageBuilder().with_creator("parent").build();  // leaves a spare behind
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const auto msg = mes::MessageBuilder().with_user_msg("child").build();
    const bool ok = msg.user_message() == "child" && !msg.creator().has_value() &&
                    mes::MLOpsMessage::from_bytes(msg.bytes()).has_value();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  pid_t done = 0;
  while ((done = waitpid(child, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  if (done == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  ASSERT_EQ(done, child) << "the child did not finish within 30 s";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
