// Moving from the original library on Kafka: its JSON records written by a plain librdkafka
// client are read by our consumer, our wire=legacy-json records are read by a plain JSON
// reader, and kafka-python's option names work (issue 14).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "orchestration/kafka/kafka_python_names.h"
#include "support/kafka_test_support.h"

namespace mlops::orchestration::testing {
namespace {

/// json.dumps(msg.to_json()).encode() of the original, for message `n`.
std::string original_json(std::int64_t n) {
  return R"({"msg_type": "COMPLETE", "topic": "t", "creator": "old-stage", )"
         R"("creator_type": "training", "stage": null, "next_task": "Evaluate", )"
         R"("usr_msg": "done )" +
         std::to_string(n) + R"(", "retries": 0, "output": ["/m/)" + std::to_string(n) +
         R"(.pt"], "recipient": null, "add_data": {"n": )" + std::to_string(n) + "}}";
}

/// A plain librdkafka client on the mock cluster, as the original's stages are.
class RawClient {
 public:
  RawClient(const MockCluster& mock, rd_kafka_type_t type) {
    std::array<char, 256> error{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    (void)rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps().c_str(), error.data(),
                            error.size());
    (void)rd_kafka_conf_set(conf, "group.id", "plain-reader", error.data(), error.size());
    handle_ = rd_kafka_new(type, conf, error.data(), error.size());
    if (handle_ == nullptr) rd_kafka_conf_destroy(conf);
  }
  ~RawClient() {
    if (handle_ != nullptr) rd_kafka_destroy(handle_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  [[nodiscard]] rd_kafka_t* get() const { return handle_; }

 private:
  rd_kafka_t* handle_ = nullptr;
};

TEST(KafkaLegacy, OriginalsJsonFromAPlainProducerIsReadWithFlatBuffersBeside) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri());
  auto ours = make_producer(orch, topic);
  ASSERT_EQ(ours.send(numbered(0), true), Status::kOk);
  {
    RawClient raw(mock, RD_KAFKA_PRODUCER);
    ASSERT_NE(raw.get(), nullptr);
    // rd_kafka_produce, not the RD_KAFKA_V_* macros: those use GNU statement expressions.
    rd_kafka_topic_t* raw_topic = rd_kafka_topic_new(raw.get(), topic.c_str(), nullptr);
    for (std::int64_t n = 1; n <= 2; ++n) {
      std::string payload = original_json(n);
      ASSERT_EQ(rd_kafka_produce(raw_topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                 payload.data(), payload.size(), nullptr, 0, nullptr),
                0);
    }
    EXPECT_EQ(rd_kafka_flush(raw.get(), 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_destroy(raw_topic);
  }
  ASSERT_EQ(ours.send(numbered(3), true), Status::kOk);
  auto con = make_consumer(orch, topic);
  const auto got = receive_n(con, 4, 10s);
  ASSERT_EQ(numbers_of(got), (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(got[1].creator(), "old-stage");
  EXPECT_EQ(got[1].creator_type(), mes::CreatorType::MLOPS);
  EXPECT_TRUE(got[1].output().is_list());
  EXPECT_EQ(got[2].user_message(), "done 2");
  EXPECT_EQ(con.stats().legacy, 2u);
  EXPECT_EQ(con.stats().skipped_corrupt, 0u);
}

TEST(KafkaLegacy, LegacyWireRecordsAreReadByAPlainJsonReader) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri("&wire=legacy-json"));
  auto pro = make_producer(orch, topic);
  const auto sent = mes::MessageBuilder()
                        .with_msg_type(mes::MessageType::START)
                        .with_creator("new-stage")
                        .with_next_task({"a", "b"})
                        .with_user_msg("caf\xC3\xA9")
                        .with_additional_argument("lr", 0.5)
                        .build();
  ASSERT_EQ(pro.send(sent, true), Status::kOk);

  RawClient raw(mock, RD_KAFKA_CONSUMER);
  ASSERT_NE(raw.get(), nullptr);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  ASSERT_EQ(rd_kafka_assign(raw.get(), parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::string payload;
  bool had_headers = true;
  const auto deadline = Clock::now() + 10s;
  while (payload.empty() && Clock::now() < deadline) {
    rd_kafka_message_t* record = rd_kafka_consumer_poll(raw.get(), 100);
    if (record == nullptr) continue;
    if (record->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      payload.assign(static_cast<const char*>(record->payload), record->len);
      rd_kafka_headers_t* headers = nullptr;
      had_headers = rd_kafka_message_headers(record, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    rd_kafka_message_destroy(record);
  }
  (void)rd_kafka_consumer_close(raw.get());
  ASSERT_FALSE(payload.empty()) << "no record within 10 s";
  EXPECT_FALSE(had_headers) << "the original's records carried no headers";
  const auto json = nlohmann::json::parse(payload);  // a plain JSON reader, as json.loads
  EXPECT_EQ(json.at("msg_type"), "START");
  EXPECT_EQ(json.at("creator"), "new-stage");
  EXPECT_EQ(json.at("creator_type"), "unknown");
  EXPECT_EQ(json.at("next_task"), (nlohmann::json{"a", "b"}));
  EXPECT_EQ(json.at("usr_msg"), "caf\xC3\xA9");
  EXPECT_TRUE(json.at("stage").is_null());
  EXPECT_EQ(json.at("retries"), 0);
  EXPECT_EQ(json.at("add_data").at("lr"), 0.5);
  EXPECT_EQ(json.size(), 11u) << "the original's eleven keys, no more";
  EXPECT_EQ(payload, mes::legacy_json::encode(sent).value());
}

TEST(KafkaLegacy, KafkaPythonOptionNamesWork) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch =
      open(mock.uri("&client_id=legacy&linger_ms=5&batch_size=16384&acks=all&retries=3"
                    "&compression_type=gzip&buffer_memory=33554432&request_timeout_ms=30000"
                    "&security_protocol=PLAINTEXT"));
  auto pro = make_producer(orch, topic);
  ASSERT_EQ(pro.send(numbered(5), true), Status::kOk);
  ConsumerOptions options;
  options.backend = {{"group_id", "g-" + topic},
                     {"auto_offset_reset", "earliest"},
                     {"session_timeout_ms", "6000"},
                     {"enable_auto_commit", "true"}};
  auto con = Consumer::create(topic, orch, std::move(options));
  ASSERT_TRUE(con) << con.error().message;
  EXPECT_EQ(numbers_of(receive_n(*con, 1, 10s)), std::vector<std::int64_t>{5});
}

/// Two consumers made with `options` on `orch` (2 partitions). Once both have received
/// something (a shared group has then split the partitions), 16 more messages from 8 creators
/// are sent: @return those both received (none if they share a group, all if they do not).
std::set<std::int64_t> received_by_both(const Orchestration& orch, const std::string& topic,
                                        const ConsumerOptions& options) {
  auto a = make_consumer(orch, topic, options);
  auto b = make_consumer(orch, topic, options);
  auto pro = make_producer(orch, topic);
  std::int64_t next = 0;
  const auto send_round = [&] {
    for (int i = 0; i < 8; ++i, ++next) {
      EXPECT_EQ(pro.send(from_creator(next, "creator-" + std::to_string(i))), Status::kOk);
    }
    EXPECT_EQ(pro.flush(5s), Status::kOk);
  };
  bool a_had = false;
  bool b_had = false;
  const auto deadline = Clock::now() + 30s;
  while ((!a_had || !b_had) && Clock::now() < deadline) {
    send_round();
    a_had = !a.receive({}, 50ms, 100).empty() || a_had;
    b_had = !b.receive({}, 50ms, 100).empty() || b_had;
  }
  EXPECT_TRUE(a_had && b_had);
  // Take in what the warm-up left (records of it may still be in flight) and commit.
  for (auto* member : {&a, &b}) {
    while (!member->receive({}, 200ms, 100).empty()) {
    }
    (void)member->commit();  // may be refused while a rebalance runs; that is not checked here
  }
  const std::int64_t first = next;
  send_round();
  send_round();
  std::set<std::int64_t> seen_a;
  std::set<std::int64_t> seen_b;
  std::set<std::int64_t> seen;
  while (seen.size() < static_cast<std::size_t>(next - first) && Clock::now() < deadline + 30s) {
    for (const auto& m : a.receive({}, 50ms, 100)) {
      if (number_of(m) >= first) seen_a.insert(number_of(m)), seen.insert(number_of(m));
    }
    for (const auto& m : b.receive({}, 50ms, 100)) {
      if (number_of(m) >= first) seen_b.insert(number_of(m)), seen.insert(number_of(m));
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(next - first));
  std::set<std::int64_t> both;
  std::ranges::set_intersection(seen_a, seen_b, std::inserter(both, both.end()));
  return both;
}

TEST(KafkaLegacy, GroupIdInBackendOptionsIsTheConsumersGroup) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  auto orch = open(mock.uri("&key=creator"));
  for (const std::string name : {"group_id", "group.id"}) {
    SCOPED_TRACE(name);
    // A topic each: the first round's messages would otherwise count in the second's.
    const auto topic = unique_name();
    mock.create_topic(topic, 2);
    const ConsumerOptions options{
        .backend = {{name, "shared-" + name + "-" + topic}, {"assign_wait_ms", "0"}}};
    EXPECT_EQ(received_by_both(orch, topic, options), std::set<std::int64_t>{});
  }
}

TEST(KafkaLegacy, GroupIdInTheUriIsTheConsumersGroup) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 2);
  auto orch = open(mock.uri("&key=creator&assign_wait_ms=0&group_id=shared-" + topic));
  EXPECT_EQ(received_by_both(orch, topic, {}), std::set<std::int64_t>{});
}

TEST(KafkaLegacy, GroupIdConflictingWithConsumerOptionsGroupIsInvalidArgument) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri());
  const auto refused = Consumer::create(
      topic, orch, ConsumerOptions{.group = "one", .backend = {{"group_id", "other"}}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("other"), std::string::npos) << refused.error().message;
  // The URI's group.id conflicts the same way; naming the same group twice is fine.
  auto named = open(mock.uri("&group.id=one"));
  const auto conflict = Consumer::create(topic, named, ConsumerOptions{.group = "two"});
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kInvalidArgument);
  auto same = Consumer::create(topic, named, ConsumerOptions{.group = "one"});
  EXPECT_TRUE(same) << same.error().message;
}

TEST(KafkaLegacy, IdempotenceDefaultGivesWayToKafkaPythonAcksRetriesInFlight) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri());
  auto con = make_consumer(orch, topic);
  const std::vector<BackendOptions> forbidding{{{"acks", "1"}},
                                               {{"acks", "0"}},
                                               {{"retries", "0"}},
                                               {{"max_in_flight_requests_per_connection", "10"}},
                                               {{"request.required.acks", "1"}}};
  std::int64_t n = 0;
  for (const auto& backend : forbidding) {
    SCOPED_TRACE(backend.begin()->first + "=" + backend.begin()->second);
    auto made = Producer::create(orch, topic, ProducerOptions{.backend = backend});
    ASSERT_TRUE(made) << made.error().message;
    ASSERT_EQ(made->send(numbered(n), true), Status::kOk);
    EXPECT_EQ(numbers_of(receive_n(con, 1, 10s)), std::vector<std::int64_t>{n});
    ++n;
  }
  // Asked for both, the user gets librdkafka's refusal, not a silent choice.
  const auto both = Producer::create(
      orch, topic, ProducerOptions{.backend = {{"acks", "1"}, {"enable_idempotence", "true"}}});
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(both.error().message.find("acks"), std::string::npos) << both.error().message;
}

TEST(KafkaLegacy, KafkaPythonNamesTranslateWithTheirUnits) {
  const auto check = [](std::string_view key, std::string_view value, std::string_view property,
                        std::string_view expected) {
    auto translated = detail::kafka::translate_kafka_python(key, value);
    ASSERT_TRUE(translated) << translated.error().message;
    ASSERT_TRUE(translated->has_value()) << key;
    EXPECT_EQ((*translated)->property, property) << key;
    EXPECT_EQ((*translated)->value, expected) << key;
  };
  check("bootstrap_servers", "h:9092", "bootstrap.servers", "h:9092");
  check("linger_ms", "5", "linger.ms", "5");
  check("batch_size", "16384", "batch.size", "16384");
  check("compression_type", "None", "compression.codec", "none");
  check("compression_type", "LZ4", "compression.codec", "lz4");
  check("buffer_memory", "33554432", "queue.buffering.max.kbytes", "32768");
  check("buffer_memory", "1025", "queue.buffering.max.kbytes", "2");
  check("security_protocol", "SASL_SSL", "security.protocol", "sasl_ssl");
  check("sasl_plain_username", "u", "sasl.username", "u");
  check("ssl_cafile", "/ca.pem", "ssl.ca.location", "/ca.pem");
  check("ssl_check_hostname", "False", "ssl.endpoint.identification.algorithm", "none");
  check("enable_idempotence", "True", "enable.idempotence", "true");
  check("group_id", "g", "group.id", "g");
  check("session_timeout_ms", "10000", "session.timeout.ms", "10000");
  auto ignored = detail::kafka::translate_kafka_python("value_serializer", "x");
  ASSERT_TRUE(ignored && ignored->has_value());
  EXPECT_TRUE((*ignored)->property.empty());
  EXPECT_FALSE((*ignored)->note.empty());
  auto passthrough = detail::kafka::translate_kafka_python("linger.ms", "5");
  ASSERT_TRUE(passthrough);
  EXPECT_FALSE(passthrough->has_value()) << "librdkafka's own names pass through";
  EXPECT_FALSE(detail::kafka::translate_kafka_python("buffer_memory", "lots"));
  EXPECT_FALSE(detail::kafka::translate_kafka_python("enable_idempotence", "maybe"));
}

}  // namespace
}  // namespace mlops::orchestration::testing
