// Closing kafka producers and consumers on the mock cluster while brokers are down: every
// close and destruction within its bound.
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "orchestration/kafka/kafka_reaper.h"
#include "orchestration/kafka/mock_cluster.h"

namespace mlops::orchestration::testing {
namespace {

std::chrono::milliseconds ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

/// Waits (up to `within`) until the reaper has destroyed every client handed to it.
bool reaper_idle(std::chrono::milliseconds within) {
  const auto deadline = Clock::now() + within;
  while (kafka::background_destroys_pending() != 0 && Clock::now() < deadline) {
    std::this_thread::yield();
  }
  return kafka::background_destroys_pending() == 0;
}

// Regression: with brokers down, a commit that timed out stays deferred in librdkafka for
// session.timeout.ms, the consumer cannot leave its group until it ends, and destroying the
// client spun at 100% CPU until then (40 s with the default session; in whichever message
// destructor dropped the last batch, or in the Consumer's). Now commit(), close() and every
// destruction return within timeout_ms + 1 s, and the client goes in the background.
TEST(KafkaShutdown, CloseAfterACommitTimedOutWithBrokersDownEndsWithinItsTimeout) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 4, 3);
  auto orch = open(mock.uri());
  {
    auto pro = make_producer(orch, topic);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
    ASSERT_EQ(pro.flush(5s), Status::kOk);
  }
  constexpr auto kTimeout = 1000ms;
  // A 6 s session: the stall this test guards against would last about 5 s.
  auto con = make_consumer(orch, topic,
                           {.group = "down", .auto_commit = false,
                            .backend = {{"timeout_ms", "1000"}, {"session.timeout.ms", "6000"}}});
  auto kept = receive_n(con, 10, 20s);  // held past the consumer: the last batch frees the client
  ASSERT_EQ(kept.size(), 10u);
  for (int broker = 1; broker <= 3; ++broker) {
    ASSERT_EQ(rd_kafka_mock_broker_set_down(mock.get(), broker), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  auto start = Clock::now();
  EXPECT_EQ(con.commit(), Status::kError);
  EXPECT_LT(ms_since(start), kTimeout + 1s);
  start = Clock::now();
  EXPECT_EQ(con.commit(), Status::kError) << "a second commit while the first is deferred";
  EXPECT_LT(ms_since(start), 500ms) << "the second commit waited for nothing";

  LogCapture log;
  start = Clock::now();
  con.close();
  { auto gone = std::move(con); }  // the Consumer's destruction
  kept.clear();                    // the last message destructor
  EXPECT_LT(ms_since(start), kTimeout + 1s) << "close and destruction took " << ms_since(start).count() << " ms";
  EXPECT_EQ(log.count(LogLevel::kWarning, "destroyed in the background"), 1u);
  // librdkafka lets go once the deferred commit expires (6 s session); it must not leak.
  EXPECT_TRUE(reaper_idle(30s)) << kafka::background_destroys_pending() << " clients never destroyed";
}

// The producer's side: records in flight and queued to brokers that went down; close()
// gives up within flush_timeout, and the producer's destruction adds under a second.
TEST(KafkaShutdown, ProducerCloseWithBrokersDownEndsWithinFlushTimeout) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 4, 3);
  auto orch = open(mock.uri());
  ReportLog log;
  constexpr auto kFlushTimeout = 1000ms;
  std::optional<Producer> pro =
      make_producer(orch, topic, {.flush_timeout = kFlushTimeout, .on_delivery = log.callback()});
  ASSERT_EQ(pro->send(numbered(0), true), Status::kOk);  // connected, with a producer id
  for (int broker = 1; broker <= 3; ++broker) {
    ASSERT_EQ(rd_kafka_mock_broker_set_down(mock.get(), broker), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  for (int i = 1; i <= 100; ++i) ASSERT_EQ(pro->send(numbered(i)), Status::kOk);
  const auto start = Clock::now();
  (void)pro->close();
  pro.reset();
  EXPECT_LT(ms_since(start), kFlushTimeout + 1s) << "close and destruction took " << ms_since(start).count() << " ms";
  EXPECT_EQ(log.reports.size(), 101u) << "every message reported once";
  EXPECT_TRUE(reaper_idle(30s));
}

}  // namespace
}  // namespace mlops::orchestration::testing
