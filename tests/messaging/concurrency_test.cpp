// What may happen from several threads at once: ids, shared reads and copies of one
// message, and logging while the handler is swapped. Run under TSan in CI.
#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "messaging/sample_messages.h"

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
