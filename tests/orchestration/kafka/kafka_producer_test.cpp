// The kafka producer on the mock cluster: problem logging under a long run of failures.
#include <string>

#include "support/kafka_test_support.h"

namespace mlops::orchestration::testing {
namespace {

// Regression: a producer (and a consumer) logged its first 10 problems and then nothing,
// for good. Now a burst of 10 goes out, then one line per log_interval_ms, each saying how
// many were held back; the limit still holds (not every failure is a line).
TEST(KafkaProducerLog, ProblemLoggingGoesOnPastTenLinesWithACountOfWhatWasHeldBack) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri());
  // librdkafka refuses a record over message.max.bytes at once: one failure per send.
  auto pro = make_producer(orch, topic,
                           {.backend = {{"message.max.bytes", "1000"}, {"log_interval_ms", "50"}}});
  const auto oversized = mes::MessageBuilder().with_user_msg(std::string(2000, 'x')).build();
  LogCapture log;
  const auto refused = [&] { return log.count(LogLevel::kError, "refused"); };
  const auto start = Clock::now();
  int failures = 0;
  while (Clock::now() - start < 600ms) {
    ASSERT_EQ(pro.send(oversized), Status::kTooLarge);
    ++failures;
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_GT(failures, 100);
  EXPECT_GT(refused(), 10u) << "logging stopped after the first burst";
  EXPECT_LE(refused(), 10u + static_cast<std::size_t>(elapsed / 50ms) + 1) << "not rate-limited";
  EXPECT_GE(log.count(LogLevel::kError, "more not logged over the last"), 1u);
  // A failure long after the others is logged too.
  const auto before = refused();
  const auto deadline = Clock::now() + 5s;
  while (refused() == before && Clock::now() < deadline) {
    ASSERT_EQ(pro.send(oversized), Status::kTooLarge);
  }
  EXPECT_EQ(refused(), before + 1);
}

}  // namespace
}  // namespace mlops::orchestration::testing
