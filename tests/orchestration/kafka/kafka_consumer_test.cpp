// The kafka consumer on the mock cluster: rebalances on slow brokers.
#include <string>

#include "orchestration/kafka/mock_cluster.h"

namespace mlops::orchestration::testing {
namespace {

// Regression: a group starting at latest pinned the end of each new partition inside the
// rebalance callback, one partition after another and each bounded by 5 s whatever the
// caller's timeout, so a receive(100ms) that served the rebalance took 8 partitions x 1 s
// round trips (9.2 s seen). Now a receive returns within its timeout plus a small constant,
// and the group still gets what is sent after it joined.
TEST(KafkaConsumerRebalance, PinningLatestOnSlowBrokersDoesNotHoldReceivePastItsTimeout) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 8);
  auto orch = open(mock.uri());
  auto pro = make_producer(orch, topic);
  ASSERT_EQ(pro.send(numbered(-1), true), Status::kOk);  // before the group: never seen
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(mock.get(), 1, 300), RD_KAFKA_RESP_ERR_NO_ERROR);
  // assign_wait_ms=0: subscribe() returns at once, so the rebalance is served in receive().
  auto con = make_consumer(orch, topic,
                           {.group = "slow", .offset_reset = OffsetReset::kLatest,
                            .backend = {{"assign_wait_ms", "0"}}});
  constexpr auto kTimeout = 100ms;
  auto longest = Clock::duration::zero();
  std::set<std::int64_t> seen;
  std::int64_t next = 0;
  auto last_send = Clock::now() - 1h;
  const auto deadline = Clock::now() + 60s;
  // Keep sending until the group has joined and receives one (what went before its
  // partitions were pinned or resolved is not its to see).
  while (seen.empty() && Clock::now() < deadline) {
    if (Clock::now() - last_send > 500ms) {
      ASSERT_EQ(pro.send(numbered(next++)), Status::kOk);
      last_send = Clock::now();
    }
    const auto start = Clock::now();
    for (const auto& m : con.receive({}, kTimeout)) seen.insert(number_of(m));
    longest = std::max(longest, Clock::now() - start);
  }
  EXPECT_FALSE(seen.empty()) << "the group never got a message";
  EXPECT_FALSE(seen.contains(-1));
  RecordProperty("longest_receive_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(longest).count()));
  EXPECT_LT(longest, kTimeout + 1s)
      << "a receive(100ms) took "
      << std::chrono::duration_cast<std::chrono::milliseconds>(longest).count() << " ms";
}

// With the time to pin (subscribe() waits for the assignment), a group at latest on slow
// brokers sees everything sent once subscribe() returned, and nothing from before.
TEST(KafkaConsumerRebalance, GroupAtLatestOnSlowBrokersSeesEverythingSentAfterSubscribe) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 8);
  auto orch = open(mock.uri());
  auto pro = make_producer(orch, topic);
  for (int i = 0; i < 16; ++i) ASSERT_EQ(pro.send(numbered(-1 - i)), Status::kOk);
  ASSERT_EQ(pro.flush(5s), Status::kOk);
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(mock.get(), 1, 300), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto con = make_consumer(orch, topic,
                           {.group = "slow-latest", .offset_reset = OffsetReset::kLatest,
                            .backend = {{"assign_wait_ms", "15000"}}});
  std::set<std::int64_t> sent;
  for (std::int64_t i = 0; i < 32; ++i) {
    ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
    sent.insert(i);
  }
  const auto got = receive_all(con, sent, 30s);
  EXPECT_EQ(got, sent) << "seen " << got.size() << " of " << sent.size();
}

}  // namespace
}  // namespace mlops::orchestration::testing
