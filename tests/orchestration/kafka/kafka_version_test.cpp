// Settings the librdkafka of this process cannot be trusted with are refused at create().
#include <array>
#include <string>

#include "orchestration/kafka/kafka_client.h"
#include "orchestration/kafka/kafka_version.h"
#include "support/kafka_test_support.h"

namespace mlops::orchestration::testing {
namespace {

using detail::kafka::check_consumer_properties;
using detail::kafka::conf_value;
using detail::kafka::kCooperativeCloseFixedVersion;
using detail::kafka::names_cooperative_assignor;

constexpr int kDebian12 = 0x020002ff;  // librdkafka 2.0.2, what Debian 12 ships

TEST(KafkaVersion, CooperativeStickyIsRefusedBeforeTheReleaseThatFixedItsCloseAbort) {
  const BackendOptions cooperative{{"partition.assignment.strategy", "range, Cooperative-Sticky "}};
  const auto refused = check_consumer_properties(cooperative, kDebian12);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("2.3.0"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("2.0.2"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(check_consumer_properties(cooperative, 0x020300ff));
  EXPECT_TRUE(check_consumer_properties({{"partition.assignment.strategy", "range,roundrobin"}},
                                        kDebian12));
  EXPECT_TRUE(check_consumer_properties({}, kDebian12));
}

// A consumer knows its rebalance protocol from its configuration (asking librdkafka can wait
// forever once its group handler has terminated, as a closing consumer's may have).
TEST(KafkaVersion, TheAssignmentStrategyTellsTheRebalanceProtocol) {
  EXPECT_TRUE(names_cooperative_assignor("cooperative-sticky"));
  EXPECT_TRUE(names_cooperative_assignor(" Cooperative-Sticky "));
  EXPECT_FALSE(names_cooperative_assignor("range,roundrobin"));
  EXPECT_FALSE(names_cooperative_assignor("range"));
  EXPECT_FALSE(names_cooperative_assignor(""));
  EXPECT_FALSE(names_cooperative_assignor("cooperative-stickyish"));
}

// The configuration's value, whatever its length, as the consumer reads its strategy.
TEST(KafkaVersion, ConfValueReadsWholeValuesAndDefaults) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  EXPECT_EQ(conf_value(conf, "partition.assignment.strategy"), "range,roundrobin");
  const std::string long_id(1000, 'c');
  std::array<char, 256> error{};
  ASSERT_EQ(rd_kafka_conf_set(conf, "client.id", long_id.c_str(), error.data(), error.size()),
            RD_KAFKA_CONF_OK)
      << error.data();
  EXPECT_EQ(conf_value(conf, "client.id"), long_id);
  EXPECT_EQ(conf_value(conf, "no.such.property"), "");
  rd_kafka_conf_destroy(conf);
}

// Regression: a cooperative-sticky consumer closed between its JoinGroup and SyncGroup
// responses aborts the process in librdkafka before 2.3.0. With the librdkafka this process
// runs: refused at create() where it is older, and closes survive where it is newer.
TEST(KafkaVersion, CooperativeStickyConsumerClosedBeforeItsFirstAssignmentDoesNotAbort) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 4);
  if (rd_kafka_version() < kCooperativeCloseFixedVersion) {
    // Set on the endpoint or on the consumer: refused either way, with the reason.
    auto orch = open(mock.uri("&partition.assignment.strategy=cooperative-sticky"));
    const auto from_uri = Consumer::create(topic, orch, {.group = "g"});
    ASSERT_FALSE(from_uri);
    EXPECT_EQ(from_uri.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(from_uri.error().message.find("cooperative-sticky"), std::string::npos);
    const auto from_options = Consumer::create(
        topic, open(mock.uri()),
        {.group = "g", .backend = {{"partition.assignment.strategy", "cooperative-sticky"}}});
    ASSERT_FALSE(from_options);
    EXPECT_EQ(from_options.error().code, ErrorCode::kInvalidArgument);
    return;
  }
  // A newer librdkafka: close members at moments spread over their first join (each round
  // trip takes 400 ms, so some closes land between JoinGroup and SyncGroup). An abort ends
  // the test binary, which fails it.
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(mock.get(), 1, 400), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto orch = open(mock.uri("&partition.assignment.strategy=cooperative-sticky&assign_wait_ms=0"));
  for (int round = 0; round < 12; ++round) {
    auto member = make_consumer(orch, topic, {.group = "g" + std::to_string(round)});
    const auto until = Clock::now() + 3000ms + round * 250ms;
    while (Clock::now() < until) (void)member.receive(10ms);
    member.close();
  }
  SUCCEED() << "12 cooperative-sticky consumers closed before their first assignment";
}

}  // namespace
}  // namespace mlops::orchestration::testing
