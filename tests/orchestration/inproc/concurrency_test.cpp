// Threads meeting on inproc: blocking receive woken by a send, blocked producers freed by
// commits, competing consumers on threads. Every wait has a deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <numeric>
#include <set>
#include <string_view>
#include <thread>

#include "orchestration/inproc/asymmetric_fence.h"
#include "orchestration/inproc/broker.h"
#include "support/test_support.h"

namespace mlops::orchestration::testing {
namespace {

Orchestration fresh_broker() {
  return Orchestration::from_uri("inproc://" + unique_name("c")).value();
}

TEST(InprocThreads, PingPongWakesSleepingConsumers) {
  const auto orch = fresh_broker();
  constexpr int kRounds = 500;
  std::atomic<int> echoed{0};
  std::thread echo([&] {
    auto con = Consumer::create("ping", orch).value();
    auto pro = Producer::create(orch, "pong").value();
    const auto deadline = Clock::now() + 30s;
    while (echoed.load() < kRounds && Clock::now() < deadline) {
      for (const auto& m : con.receive({}, 1s)) {
        if (pro.send(numbered(number_of(m))) == Status::kOk) echoed.fetch_add(1);
      }
    }
  });
  auto pro = Producer::create(orch, "ping").value();
  auto con = Consumer::create("pong", orch).value();
  int answered = 0;
  const auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
    const auto got = receive_n(con, 1, 5s);
    ASSERT_EQ(got.size(), 1u) << "round " << i;
    EXPECT_EQ(number_of(got[0]), i);
    ++answered;
  }
  echo.join();
  EXPECT_EQ(answered, kRounds);
  EXPECT_LT(Clock::now() - start, 30s);
}

// A lost wake-up would leave the consumer asleep for its 30 s timeout; each round allows
// 5 s. Even rounds send once the topic counts the consumer as asleep (the wake path); odd
// rounds send after a random spin of up to 200 µs from its last receive, so that some sends
// land while it is announcing its sleep and taking its last look. (That exercises the
// fences' race but cannot force the store-load reordering they prevent: with both fences
// removed this test still passed all of 5 runs on x86.)
TEST(InprocThreads, EverySendWakesAConsumerAsleepInReceive) {
  const auto broker = unique_name("wake");
  const auto orch = Orchestration::from_uri("inproc://" + broker).value();
  auto con = Consumer::create("wake", orch).value();
  auto& topic = (*detail::inproc::Broker::open(broker, {}))->topic("wake");
  constexpr int kRounds = 400;
  std::atomic<int> woken{0};
  std::thread sleeper([&] {
    std::vector<mes::MLOpsMessage> out;
    for (int i = 0; i < kRounds; ++i) {
      if (con.receive(out, {}, 30s, 1) != Status::kOk || out.size() != 1) return;
      woken.fetch_add(1);
    }
  });
  auto pro = Producer::create(orch, "wake").value();
  const auto wait_for = [](const auto& condition) {
    const auto deadline = Clock::now() + 5s;
    while (!condition()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::yield();
    }
    return true;
  };
  std::uint32_t random = 12345;
  for (int i = 0; i < kRounds; ++i) {
    if (i % 2 == 0) {
      if (!wait_for([&] { return topic.sleepers() == 1; })) {
        ADD_FAILURE() << "round " << i << ": the consumer never went to sleep";
        break;
      }
    } else {
      random = random * 1664525u + 1013904223u;
      const auto until = Clock::now() + std::chrono::microseconds(random % 200);
      while (Clock::now() < until) {
      }
    }
    if (pro.send(numbered(i)) != Status::kOk) {
      ADD_FAILURE() << "round " << i << ": send failed";
      break;
    }
    if (!wait_for([&] { return woken.load() == i + 1; })) {
      ADD_FAILURE() << "round " << i << ": the send did not wake the consumer";
      break;
    }
  }
  // After a failure, what is left lets the consumer finish (within its timeouts).
  for (int i = woken.load(); i < kRounds; ++i) (void)pro.send(numbered(i));
  sleeper.join();
  EXPECT_EQ(woken.load(), kRounds);
}

// ctest runs this binary twice: as it is, and with MLOPS_INPROC_MEMBARRIER=off (every test
// then runs on ordinary full fences).
TEST(InprocThreads, FencesFollowTheKernelAndTheSwitch) {
  const char* setting = std::getenv("MLOPS_INPROC_MEMBARRIER");
  const bool switched_off = setting != nullptr && std::string_view(setting) == "off";
  bool kernel_offers = false;
#if defined(__linux__) && defined(SYS_membarrier)
  const long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  kernel_offers = commands >= 0 && (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0;
#endif
  EXPECT_EQ(detail::inproc::fences_are_asymmetric(), kernel_offers && !switched_off)
      << "MLOPS_INPROC_MEMBARRIER=" << (setting ? setting : "(unset)");
}

TEST(InprocThreads, ConsumerOnSeveralTopicsWakesForAny) {
  const auto orch = fresh_broker();
  auto con = Consumer::create({"a", "b", "c"}, orch).value();
  std::thread sender([&] {
    auto pro = Producer::create(orch, "c").value();
    EXPECT_EQ(pro.send(numbered(3)), Status::kOk);
  });
  const auto start = Clock::now();
  const auto got = receive_n(con, 1, 10s);
  sender.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(number_of(got[0]), 3);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST(InprocThreads, BlockedProducerResumesWhenTheGroupCommits) {
  const auto orch = fresh_broker();
  ASSERT_TRUE(Admin::create(orch).value().create_topic("narrow", {.max_messages = 2}));
  auto con = Consumer::create("narrow", orch, {.group = "g"}).value();
  constexpr int kCount = 50;
  std::atomic<int> sent{0};
  std::thread producer([&] {
    auto pro = Producer::create(orch, "narrow",
                                {.back_pressure = BackPressure::kBlock, .send_timeout = 10s})
                   .value();
    for (int i = 0; i < kCount; ++i) {
      if (pro.send(numbered(i)) != Status::kOk) return;
      sent.fetch_add(1);
    }
  });
  std::vector<std::int64_t> got;
  const auto deadline = Clock::now() + 30s;
  while (got.size() < kCount && Clock::now() < deadline) {
    for (const auto& m : con.receive({}, 100ms, 1)) got.push_back(number_of(m));
    ASSERT_EQ(con.commit(), Status::kOk);
  }
  producer.join();
  EXPECT_EQ(sent.load(), kCount);
  std::vector<std::int64_t> expected(kCount);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(got, expected);
}

TEST(InprocThreads, CompetingConsumersOnThreadsGetEachMessageOnce) {
  const auto orch = fresh_broker();
  constexpr int kCount = 5000;
  constexpr int kConsumers = 3;
  std::vector<Consumer> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.push_back(
        Consumer::create("work", orch, {.group = "workers", .max_batch = 16}).value());
  }
  std::atomic<int> total{0};
  std::vector<std::vector<std::int64_t>> seen(kConsumers);
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<mes::MLOpsMessage> out;
      const auto deadline = Clock::now() + 60s;
      while (total.load() < kCount && Clock::now() < deadline) {
        if (consumers[c].receive(out, {}, 50ms) != Status::kOk) continue;
        for (const auto& m : out) seen[c].push_back(number_of(m));
        total.fetch_add(static_cast<int>(out.size()));
      }
    });
  }
  auto pro = Producer::create(orch, "work").value();
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  for (auto& t : threads) t.join();
  std::multiset<std::int64_t> all;
  for (const auto& s : seen) all.insert(s.begin(), s.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(all.count(i), 1u) << i;
}

TEST(InprocThreads, StatsMayBeReadWhileReceiving) {
  const auto orch = fresh_broker();
  auto con = Consumer::create("s", orch).value();
  auto pro = Producer::create(orch, "s").value();
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!done.load()) {
      const auto now = con.stats().received;
      EXPECT_GE(now, last);
      last = now;
    }
  });
  for (int i = 0; i < 200; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  EXPECT_EQ(receive_n(con, 200).size(), 200u);
  done.store(true);
  reader.join();
  EXPECT_EQ(con.stats().received, 200u);
}

}  // namespace
}  // namespace mlops::orchestration::testing
