// Several producers and consumer groups over a narrow inproc topic: every message arrives
// exactly once per group. MLOPS_STRESS_MESSAGES sets the total (default 150000; CI's
// Release run uses millions).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "orchestration/inproc/broker.h"
#include "support/test_support.h"

namespace mlops::orchestration::testing {
namespace {

std::size_t total_messages() {
  if (const char* text = std::getenv("MLOPS_STRESS_MESSAGES")) {
    const auto value = std::strtoull(text, nullptr, 10);
    if (value > 0) return static_cast<std::size_t>(value);
  }
  return 150'000;
}

TEST(InprocStress, EveryMessageExactlyOncePerGroup) {
  constexpr int kProducers = 3;
  constexpr int kGroups = 2;
  constexpr int kConsumersPerGroup = 2;
  const std::size_t per_producer = total_messages() / kProducers;
  const std::size_t expected = per_producer * kProducers;
  const auto deadline = Clock::now() + 240s;

  const auto orch = Orchestration::from_uri("inproc://" + unique_name("stress")).value();
  ASSERT_TRUE(Admin::create(orch).value().create_topic("stress", {.max_messages = 4096}));

  // seen[group][message] counts deliveries; a message is producer * per_producer + sequence.
  std::vector<std::vector<std::atomic<std::uint8_t>>> seen;
  for (int g = 0; g < kGroups; ++g) seen.emplace_back(expected);
  std::vector<std::atomic<std::size_t>> group_total(kGroups);

  // Consumers join before anything is sent, so their groups hold every message.
  std::vector<Consumer> consumers;
  for (int g = 0; g < kGroups; ++g) {
    for (int c = 0; c < kConsumersPerGroup; ++c) {
      consumers.push_back(
          Consumer::create("stress", orch, {.group = "group-" + std::to_string(g), .max_batch = 64})
              .value());
    }
  }

  std::vector<std::thread> threads;
  std::atomic<int> producer_failures{0};
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      auto pro = Producer::create(orch, "stress", {.send_timeout = 30s}).value();
      mes::MessageBuilder builder;
      for (std::size_t s = 0; s < per_producer; ++s) {
        const auto n = static_cast<std::int64_t>(p * per_producer + s);
        builder.with_creator("stress").with_additional_argument("n", n);
        // One producer sends views (copied by the backend), the others owned messages.
        const auto status = p == 0 ? pro.send(builder.build_view()) : pro.send(builder.build());
        if (status != Status::kOk) {
          producer_failures.fetch_add(1);
          return;
        }
      }
    });
  }
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    threads.emplace_back([&, i] {
      const auto g = i / kConsumersPerGroup;
      auto& consumer = consumers[i];
      std::vector<mes::MLOpsMessage> out;
      while (group_total[g].load() < expected && Clock::now() < deadline) {
        if (consumer.receive(out, {}, 20ms) != Status::kOk) continue;
        for (const auto& m : out) {
          const auto n = number_of(m);
          if (n >= 0 && static_cast<std::size_t>(n) < expected) seen[g][n].fetch_add(1);
        }
        group_total[g].fetch_add(out.size());
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_EQ(producer_failures.load(), 0);
  for (int g = 0; g < kGroups; ++g) {
    EXPECT_EQ(group_total[g].load(), expected) << "group " << g;
    std::size_t missing = 0;
    std::size_t duplicated = 0;
    for (std::size_t n = 0; n < expected; ++n) {
      const auto count = seen[g][n].load();
      missing += count == 0;
      duplicated += count > 1;
    }
    EXPECT_EQ(missing, 0u) << "group " << g;
    EXPECT_EQ(duplicated, 0u) << "group " << g;
  }
  std::uint64_t received = 0;
  for (const auto& c : consumers) received += c.stats().received;
  EXPECT_EQ(received, expected * kGroups);
}

// Producers publish without a lock, out of order, into a topic a quarter the size of a
// batch: they block for room all the time, while consumers without a group join at latest
// (past entries still being written) and leave again. The one steady consumer still gets
// every message once, each producer's in the order sent.
TEST(InprocStress, TinyTopicWithGroupsComingAndGoing) {
  constexpr int kProducers = 3;
  const std::size_t per_producer = std::max<std::size_t>(total_messages() / 10, 3000);
  const std::size_t expected = per_producer * kProducers;
  const auto deadline = Clock::now() + 120s;
  const auto orch = Orchestration::from_uri("inproc://" + unique_name("tiny")).value();
  ASSERT_TRUE(Admin::create(orch).value().create_topic("tiny", {.max_messages = 256}));
  auto steady = Consumer::create("tiny", orch, {.group = "steady", .max_batch = 1000}).value();

  std::atomic<bool> producing{true};
  std::atomic<int> producer_failures{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      auto pro = Producer::create(orch, "tiny", {.send_timeout = 30s}).value();
      for (std::size_t s = 0; s < per_producer; ++s) {
        if (pro.send(numbered(static_cast<std::int64_t>(p * per_producer + s))) != Status::kOk) {
          producer_failures.fetch_add(1);
          return;
        }
      }
    });
  }
  std::atomic<std::size_t> churned{0};
  threads.emplace_back([&] {
    std::vector<mes::MLOpsMessage> out;
    while (producing.load() && Clock::now() < deadline) {
      auto passer_by =
          Consumer::create("tiny", orch, {.offset_reset = OffsetReset::kLatest}).value();
      if (passer_by.receive(out, {}, 1ms, 7) == Status::kOk) churned.fetch_add(out.size());
    }
  });

  std::vector<std::size_t> next(kProducers, 0);
  std::size_t received = 0;
  std::size_t out_of_order = 0;
  std::vector<mes::MLOpsMessage> out;
  while (received < expected && Clock::now() < deadline) {
    if (steady.receive(out, {}, 20ms) != Status::kOk) continue;
    for (const auto& m : out) {
      const auto n = static_cast<std::size_t>(number_of(m));
      const auto p = n / per_producer;
      ASSERT_LT(p, next.size());
      out_of_order += n % per_producer != next[p];
      next[p] = n % per_producer + 1;
    }
    received += out.size();
  }
  producing = false;
  for (auto& t : threads) t.join();
  EXPECT_EQ(producer_failures.load(), 0);
  EXPECT_EQ(received, expected);
  EXPECT_EQ(out_of_order, 0u);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], per_producer) << "producer " << p;
  EXPECT_GT(churned.load(), 0u) << "the consumers joining at latest never got anything";
}

// With no group at all, concurrent producers never block: the oldest entries make room,
// the topic never holds more than its limit, and a later group finds the limit's worth,
// each producer's in order.
TEST(InprocStress, TopicWithoutGroupsDropsTheOldestUnderConcurrentProducers) {
  constexpr int kProducers = 3;
  constexpr std::size_t kLimit = 300;
  const std::size_t per_producer = std::max<std::size_t>(total_messages() / 10, 3000);
  const auto broker = unique_name("nogroup");
  const auto orch = Orchestration::from_uri("inproc://" + broker).value();
  ASSERT_TRUE(Admin::create(orch).value().create_topic("t", {.max_messages = kLimit}));
  auto& topic = (*detail::inproc::Broker::open(broker, {}))->topic("t");
  std::atomic<int> producer_failures{0};
  std::atomic<std::size_t> most_held{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      auto pro = Producer::create(orch, "t", {.back_pressure = BackPressure::kReturn}).value();
      for (std::size_t s = 0; s < per_producer; ++s) {
        if (pro.send(numbered(static_cast<std::int64_t>(p * per_producer + s))) != Status::kOk) {
          producer_failures.fetch_add(1);
        }
        const auto held = topic.size();
        auto most = most_held.load();
        while (held > most && !most_held.compare_exchange_weak(most, held)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(producer_failures.load(), 0);
  EXPECT_LE(most_held.load(), kLimit);
  EXPECT_EQ(topic.size(), kLimit);

  auto late = Consumer::create("t", orch, {.group = "late"}).value();
  std::vector<std::int64_t> last(kProducers, -1);
  std::size_t got = 0;
  std::vector<mes::MLOpsMessage> out;
  while (late.receive(out, {}, 100ms) == Status::kOk) {
    for (const auto& m : out) {
      const auto n = number_of(m);
      const auto p = static_cast<std::size_t>(n) / per_producer;
      ASSERT_LT(p, last.size());
      EXPECT_GT(n, last[p]) << "producer " << p << " out of order";
      last[p] = n;
    }
    got += out.size();
  }
  EXPECT_EQ(got, kLimit);
}

}  // namespace
}  // namespace mlops::orchestration::testing
