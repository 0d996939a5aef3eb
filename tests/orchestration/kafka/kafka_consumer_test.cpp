// The kafka consumer on the mock cluster: rebalances on slow brokers, and a consumer
// without a group subscribing again.
#include <set>
#include <string>
#include <vector>

#include "support/kafka_test_support.h"

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
  // ordering=none: spread over the 8 partitions, as any of them may be the group's.
  auto pro = make_producer(orch, topic, {.backend = {{"ordering", "none"}}});
  ASSERT_EQ(pro.send(numbered(-1), true), Status::kOk);  // before the group: never seen
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(mock.get(), 1, 300), RD_KAFKA_RESP_ERR_NO_ERROR);
  // assign_wait_ms=0: subscribe() returns at once, so the rebalance is served in receive().
  auto con = make_consumer(orch, topic,
                           {.group = "slow",
                            .offset_reset = OffsetReset::kLatest,
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
  RecordProperty(
      "longest_receive_ms",
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
  auto pro = make_producer(orch, topic, {.backend = {{"ordering", "none"}}});  // every partition
  for (int i = 0; i < 16; ++i) ASSERT_EQ(pro.send(numbered(-1 - i)), Status::kOk);
  ASSERT_EQ(pro.flush(5s), Status::kOk);
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(mock.get(), 1, 300), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto con = make_consumer(orch, topic,
                           {.group = "slow-latest",
                            .offset_reset = OffsetReset::kLatest,
                            .backend = {{"assign_wait_ms", "15000"}}});
  std::set<std::int64_t> sent;
  for (std::int64_t i = 0; i < 32; ++i) {
    ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
    sent.insert(i);
  }
  const auto got = receive_all(con, sent, 30s);
  EXPECT_EQ(got, sent) << "seen " << got.size() << " of " << sent.size();
}

/// Sends `numbers` to `topic`, flushed.
void send_numbers(Producer& pro, const std::string& topic, std::int64_t first, std::int64_t count) {
  for (std::int64_t i = first; i < first + count; ++i)
    ASSERT_EQ(pro.send(numbered(i, topic)), Status::kOk);
  ASSERT_EQ(pro.flush(5s), Status::kOk);
}

// Regression: a consumer without a group never picked up new partitions on a new
// subscribe(): it returned early when the topic list was unchanged, and a changed list
// replaced the whole assignment, rewinding the topics it kept to their committed offsets.
// The mock cannot add partitions to a topic, so the "grown" topic is one with more
// partitions under a new name: subscribing to it adds all of its partitions, and the topic
// kept goes on from where it was.
TEST(KafkaConsumerResubscribe, WithoutAGroupPicksUpNewPartitionsAndKeepsItsPlace) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto kept = unique_name("kept");
  const auto grown = unique_name("grown");
  mock.create_topic(kept, 1);
  mock.create_topic(grown, 8);
  auto orch = open(mock.uri());
  auto pro = make_producer(orch, kept, {.backend = {{"ordering", "none"}}});  // every partition
  send_numbers(pro, kept, 0, 10);
  auto con = make_consumer(orch, kept, {.auto_commit = false});
  ASSERT_EQ(numbers_of(receive_n(con, 5, 10s)), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));

  ASSERT_TRUE(con.subscribe({kept, grown}));
  send_numbers(pro, grown, 100, 40);  // over all 8 partitions
  std::set<std::int64_t> wanted{5, 6, 7, 8, 9};
  for (std::int64_t i = 100; i < 140; ++i) wanted.insert(i);
  std::multiset<std::int64_t> seen;
  const auto deadline = Clock::now() + 20s;
  while (!std::includes(seen.begin(), seen.end(), wanted.begin(), wanted.end()) &&
         Clock::now() < deadline) {
    for (const auto& m : con.receive({}, 100ms, 1000)) seen.insert(number_of(m));
  }
  for (const auto n : wanted) EXPECT_EQ(seen.count(n), 1u) << "message " << n;
  for (std::int64_t n = 0; n < 5; ++n)
    EXPECT_EQ(seen.count(n), 0u) << "message " << n << " came again";
}

// The same topic list again is read again too: with the broker down, subscribe() says it
// could not read the topic (it used to return at once, asking nothing); once the broker is
// back, the subscription goes on from where it was.
TEST(KafkaConsumerResubscribe, WithoutAGroupTheSameTopicsAreReadAgain) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 2);
  auto orch = open(mock.uri());
  auto pro = make_producer(orch, topic);
  send_numbers(pro, topic, 0, 4);
  auto con =
      make_consumer(orch, topic, {.auto_commit = false, .backend = {{"timeout_ms", "3000"}}});
  EXPECT_EQ(receive_n(con, 4, 10s).size(), 4u);

  ASSERT_EQ(rd_kafka_mock_broker_set_down(mock.get(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto start = Clock::now();
  const auto unread = con.subscribe(topic);
  ASSERT_FALSE(unread) << "subscribe() did not ask the broker";
  EXPECT_NE(unread.error().message.find(topic), std::string::npos) << unread.error().message;
  EXPECT_LT(Clock::now() - start, 3s + 1s) << "within timeout_ms";
  EXPECT_EQ(con.subscriptions(), std::vector<std::string>{topic})
      << "a failed subscribe changes nothing";

  ASSERT_EQ(rd_kafka_mock_broker_set_up(mock.get(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  // Until the client has reconnected (its reconnect backoff), subscribe() still fails.
  auto again = con.subscribe(topic);
  for (const auto until = Clock::now() + 30s; !again && Clock::now() < until;)
    again = con.subscribe(topic);
  ASSERT_TRUE(again) << again.error().message;
  send_numbers(pro, topic, 4, 4);
  std::multiset<std::int64_t> seen;
  const auto deadline = Clock::now() + 20s;
  while (seen.size() < 4 && Clock::now() < deadline) {
    for (const auto& m : con.receive({}, 100ms, 1000)) seen.insert(number_of(m));
  }
  EXPECT_TRUE(con.receive(200ms).empty());
  for (const auto& m : con.receive({}, 200ms, 1000)) seen.insert(number_of(m));
  EXPECT_EQ(seen, (std::multiset<std::int64_t>{4, 5, 6, 7})) << "nothing again, nothing missed";
}

}  // namespace
}  // namespace mlops::orchestration::testing
