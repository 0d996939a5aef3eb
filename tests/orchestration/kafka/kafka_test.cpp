// The kafka backend on librdkafka's in-process mock cluster (the real protocol, no server):
// consumer groups and rebalance, restart from the committed offset, foreign payloads,
// record headers, and injected faults (request errors, broker down/up, leader change).
// The API semantics shared with the other backends run in api_test.cpp (kafka_mock case).
#include <map>
#include <set>

#include "support/kafka_test_support.h"

namespace mlops::orchestration::testing {
namespace {

TEST(KafkaMock, MembersOfAGroupSharePartitionsAndTakeOverOnLeave) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 4);
  auto orch = open(mock.uri("&key=creator"));
  // assign_wait_ms=0: both members are polled by this one thread, so neither may block
  // waiting for a rebalance the other one has to take part in.
  const ConsumerOptions options{.group = "workers", .backend = {{"assign_wait_ms", "0"}}};
  auto a = make_consumer(orch, topic, options);
  auto b = make_consumer(orch, topic, options);
  auto pro = make_producer(orch, topic);

  std::set<std::int64_t> sent;
  std::set<std::int64_t> seen;
  std::size_t from_a = 0;
  std::size_t from_b = 0;
  std::int64_t next = 0;
  // Keep sending (8 creators: 8 keys over 4 partitions) until both members have had some.
  const auto deadline = Clock::now() + 30s;
  while ((from_a == 0 || from_b == 0) && Clock::now() < deadline) {
    for (int i = 0; i < 8; ++i, ++next) {
      ASSERT_EQ(pro.send(from_creator(next, "creator-" + std::to_string(i))), Status::kOk);
      sent.insert(next);
    }
    ASSERT_EQ(pro.flush(5s), Status::kOk);
    for (const auto& m : a.receive({}, 50ms, 100)) seen.insert(number_of(m)), ++from_a;
    for (const auto& m : b.receive({}, 50ms, 100)) seen.insert(number_of(m)), ++from_b;
  }
  EXPECT_GT(from_a, 0u);
  EXPECT_GT(from_b, 0u);
  ASSERT_EQ(a.commit(), Status::kOk);
  // What is still in flight arrives at one of the two.
  while (!std::includes(seen.begin(), seen.end(), sent.begin(), sent.end()) &&
         Clock::now() < deadline) {
    for (const auto& m : a.receive({}, 50ms, 100)) seen.insert(number_of(m));
    for (const auto& m : b.receive({}, 50ms, 100)) seen.insert(number_of(m));
  }
  EXPECT_TRUE(std::includes(seen.begin(), seen.end(), sent.begin(), sent.end()));

  // a leaves: b is assigned every partition and gets everything sent from now on.
  a.close();
  std::set<std::int64_t> later;
  for (int i = 0; i < 8; ++i, ++next) {
    ASSERT_EQ(pro.send(from_creator(next, "creator-" + std::to_string(i))), Status::kOk);
    later.insert(next);
  }
  ASSERT_EQ(pro.flush(5s), Status::kOk);
  const auto got = receive_all(b, later, 20s);
  EXPECT_TRUE(std::includes(got.begin(), got.end(), later.begin(), later.end()))
      << "b received " << got.size() << " of the " << later.size() << " sent after a left";
}

TEST(KafkaMock, RestartResumesFromTheCommittedOffset) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri());
  auto pro = make_producer(orch, topic);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  ASSERT_EQ(pro.flush(5s), Status::kOk);

  const ConsumerOptions options{.group = "resume", .auto_commit = false};
  std::vector<mes::MLOpsMessage> kept;
  {
    auto first = make_consumer(orch, topic, options);
    kept = receive_n(first, 4, 15s);
    ASSERT_EQ(numbers_of(kept), (std::vector<std::int64_t>{0, 1, 2, 3}));
    ASSERT_EQ(first.commit(), Status::kOk);
    // One more handed out but never committed: it must come again.
    ASSERT_EQ(numbers_of(first.receive({}, 5s, 1)), std::vector<std::int64_t>{4});
  }
  auto second = make_consumer(orch, topic, options);
  EXPECT_EQ(numbers_of(receive_n(second, 6, 15s)), (std::vector<std::int64_t>{4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(second.receive(200ms).empty());
  // Messages outlive the consumer that received them (they hold librdkafka's record).
  second.close();
  EXPECT_EQ(numbers_of(kept), (std::vector<std::int64_t>{0, 1, 2, 3}));
}

TEST(KafkaMock, ReceivedMessagesAreAlignedIntactAndOutliveTheirConsumer) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  std::vector<mes::MLOpsMessage> sent;
  std::vector<mes::MLOpsMessage> got;
  {
    auto orch = open(mock.uri());
    auto pro = make_producer(orch, topic);
    // Records of many lengths, so payloads land at every offset of librdkafka's fetch
    // buffers: the misaligned ones are copied (into one arena per batch), the rest viewed.
    for (std::int64_t i = 0; i < 200; ++i) {
      sent.push_back(mes::MessageBuilder()
                         .with_creator("aligned")
                         .with_user_msg(std::string(static_cast<std::size_t>(i * 3), 'x'))
                         .with_additional_argument("n", i)
                         .build());
      ASSERT_EQ(pro.send(sent.back()), Status::kOk);
    }
    ASSERT_EQ(pro.flush(5s), Status::kOk);
    auto con = make_consumer(orch, topic);
    got = receive_n(con, sent.size(), 15s);
    EXPECT_EQ(con.stats().skipped_corrupt, 0u);
  }  // consumer, producer, clients and orchestration are gone; the messages are not
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(got[i].bytes().data()) % 8, 0u) << "message " << i;
    EXPECT_TRUE(std::ranges::equal(got[i].bytes(), sent[i].bytes())) << "message " << i;
    EXPECT_EQ(got[i].user_message(), sent[i].user_message());
  }
  // Dropping all but one keeps that one readable (it keeps its batch alive).
  const auto last = got.back();
  got.clear();
  EXPECT_EQ(number_of(last), 199);
  EXPECT_TRUE(std::ranges::equal(last.bytes(), sent.back().bytes()));
}

TEST(KafkaMock, ForeignPayloadsFromRawLibrdkafkaAreSkippedAndCounted) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  {
    // A plain librdkafka producer writes text, as a foreign client on the topic would.
    std::array<char, 256> error{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps().c_str(), error.data(),
                                error.size()),
              RD_KAFKA_CONF_OK);
    rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
    ASSERT_NE(raw, nullptr) << error.data();
    rd_kafka_topic_t* raw_topic = rd_kafka_topic_new(raw, topic.c_str(), nullptr);
    for (const std::string text : {"hello", "{\"json\": true}", "MLOP but not really"}) {
      ASSERT_EQ(rd_kafka_produce(raw_topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                 const_cast<char*>(text.data()), text.size(), nullptr, 0, nullptr),
                0);
    }
    EXPECT_EQ(rd_kafka_flush(raw, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_destroy(raw_topic);
    rd_kafka_destroy(raw);
  }
  auto orch = open(mock.uri());
  auto pro = make_producer(orch, topic);
  ASSERT_EQ(pro.send(numbered(42), true), Status::kOk);
  auto con = make_consumer(orch, topic);
  EXPECT_EQ(numbers_of(receive_n(con, 1, 10s)), std::vector<std::int64_t>{42});
  EXPECT_EQ(con.stats().skipped_corrupt, 3u);
}

TEST(KafkaMock, RecordsCarryContentTypeSchemaVersionAndKey) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri("&key=creator"));
  auto pro = make_producer(orch, topic);
  const auto sent = from_creator(1, "trainer");
  ASSERT_EQ(pro.send(sent, true), Status::kOk);

  // Read the record with plain librdkafka, as a non-mlops consumer would.
  std::array<char, 256> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps().c_str(), error.data(),
                              error.size()),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(rd_kafka_conf_set(conf, "group.id", "raw", error.data(), error.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  ASSERT_NE(raw, nullptr) << error.data();
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(assignment, topic.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  ASSERT_EQ(rd_kafka_assign(raw, assignment), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(assignment);
  rd_kafka_message_t* record = nullptr;
  const auto deadline = Clock::now() + 10s;
  while (record == nullptr && Clock::now() < deadline) {
    record = rd_kafka_consumer_poll(raw, 100);
    if (record != nullptr && record->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_message_destroy(record);
      record = nullptr;
    }
  }
  ASSERT_NE(record, nullptr) << "no record within 10 s";
  EXPECT_EQ(std::string_view(static_cast<const char*>(record->key), record->key_len), "trainer");
  EXPECT_TRUE(std::ranges::equal(
      std::span(static_cast<const std::uint8_t*>(record->payload), record->len), sent.bytes()));
  rd_kafka_headers_t* headers = nullptr;
  ASSERT_EQ(rd_kafka_message_headers(record, &headers), RD_KAFKA_RESP_ERR_NO_ERROR);
  const void* value = nullptr;
  std::size_t size = 0;
  // One header: the content type, with the schema version as a parameter.
  EXPECT_EQ(rd_kafka_header_cnt(headers), 1u);
  ASSERT_EQ(rd_kafka_header_get_last(headers, "content-type", &value, &size),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  // The schema parameter is the library's schema version (a field appended bumps both).
  EXPECT_EQ(std::string_view(static_cast<const char*>(value), size),
            "application/x-mlops-flatbuffer; schema=" + std::to_string(mlops::schema_version()));
  rd_kafka_message_destroy(record);
  rd_kafka_destroy_flags(raw, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

// One message sent again and again, and to two topics at once, shares a held slot between
// its records; views never do (their buffer changes). Every record still gets one report
// with its message, and every record arrives intact.
TEST(KafkaMock, RepeatedSendsOfOneMessageGetAReportAndARecordEach) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto first = unique_name();
  const auto second = unique_name();
  mock.create_topic(first, 1);
  mock.create_topic(second, 1);
  auto orch = open(mock.uri());
  std::map<std::pair<std::string, std::int64_t>, int> reports;
  int failed = 0;
  auto pro = make_producer(orch, first, {.on_delivery = [&](const DeliveryReport& report) {
                             ++reports[{std::string(report.topic), number_of(report.message)}];
                             if (report.status != Status::kOk) ++failed;
                           }});
  const auto often = numbered(7, {first, second});
  const auto now_and_then = numbered(8, {first, second});
  constexpr int kSends = 50;
  for (int i = 0; i < kSends; ++i) {
    ASSERT_EQ(pro.send(i % 10 == 9 ? now_and_then : often), Status::kOk) << "send " << i;
  }
  // Two views of one builder: the second overwrites the first's buffer after its send.
  mes::MessageBuilder builder;
  ASSERT_EQ(pro.send(builder.with_additional_argument("n", std::int64_t{9}).build_view()),
            Status::kOk);
  ASSERT_EQ(pro.send(builder.with_additional_argument("n", std::int64_t{10}).build_view()),
            Status::kOk);
  ASSERT_EQ(pro.flush(30s), Status::kOk);

  EXPECT_EQ(failed, 0);
  for (const auto& topic : {first, second}) {
    EXPECT_EQ((reports[{topic, 7}]), 45) << topic;
    EXPECT_EQ((reports[{topic, 8}]), 5) << topic;
  }
  EXPECT_EQ((reports[{first, 9}]), 1);
  EXPECT_EQ((reports[{first, 10}]), 1);
  EXPECT_EQ(reports.size(), 6u);

  const std::map<std::string, std::map<std::int64_t, int>> wanted{
      {first, {{7, 45}, {8, 5}, {9, 1}, {10, 1}}}, {second, {{7, 45}, {8, 5}}}};
  for (const auto& [topic, counts] : wanted) {
    auto con = make_consumer(orch, topic);
    std::map<std::int64_t, int> seen;
    int total = 0;
    int expected = 0;
    for (const auto& [n, count] : counts) expected += count;
    const auto deadline = Clock::now() + 20s;
    while (total < expected && Clock::now() < deadline) {
      for (const auto& m : con.receive({}, 100ms, 1000)) {
        ++seen[number_of(m)];
        ++total;
      }
    }
    EXPECT_EQ(seen, counts) << topic;
  }
}

// A delivery callback may send the reported message again (a retry, a chain of stages).
// Here every report sends its message once more, 20 times over, and the sender dropped its
// own copy at once: the reports alone keep the bytes alive.
TEST(KafkaMock, SendingAgainFromTheDeliveryCallbackKeepsEveryRecordIntact) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri());
  constexpr int kAgain = 20;
  int reports = 0;
  int resent = 0;
  int refused = 0;
  Producer* self = nullptr;
  auto pro = make_producer(orch, topic, {.on_delivery = [&](const DeliveryReport& report) {
                             ++reports;
                             if (report.status != Status::kOk || resent == kAgain) return;
                             ++resent;
                             if (self->send(report.message) != Status::kOk) ++refused;
                           }});
  self = &pro;
  ASSERT_EQ(pro.send(numbered(5)), Status::kOk);
  // Each flush serves the report of the record before (which sends the next one).
  const auto deadline = Clock::now() + 30s;
  while (reports < kAgain + 1 && Clock::now() < deadline) ASSERT_EQ(pro.flush(30s), Status::kOk);
  EXPECT_EQ(refused, 0);
  EXPECT_EQ(resent, kAgain);
  EXPECT_EQ(reports, kAgain + 1);

  auto con = make_consumer(orch, topic);
  int intact = 0;
  const auto until = Clock::now() + 20s;
  while (intact < kAgain + 1 && Clock::now() < until) {
    for (const auto& m : con.receive({}, 100ms, 1000)) intact += number_of(m) == 5 ? 1 : 0;
  }
  EXPECT_EQ(intact, kAgain + 1);
  EXPECT_EQ(con.stats().skipped_corrupt, 0u);
}

// Sends `count` numbered messages from `first`, calling `fault(i)` before message i.
template <typename Fault>
void send_with_faults(Producer& pro, std::int64_t first, std::int64_t count, Fault fault) {
  for (std::int64_t i = first; i < first + count; ++i) {
    fault(i);
    ASSERT_EQ(pro.send(numbered(i)), Status::kOk) << "message " << i;
  }
}

TEST(KafkaFaults, ProduceErrorsGiveExactlyOneReportAndLoseNothing) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 2, 3);
  auto orch = open(mock.uri());
  ReportLog log;
  auto pro =
      make_producer(orch, topic,
                    {.on_delivery = log.callback(),
                     .backend = {{"message.timeout.ms", "20000"}, {"retry.backoff.ms", "20"}}});
  constexpr std::int64_t kCount = 600;
  send_with_faults(pro, 0, kCount, [&](std::int64_t i) {
    if (i % 100 == 50) {
      rd_kafka_mock_push_request_errors(mock.get(), kProduceApi, 4, RD_KAFKA_RESP_ERR__TRANSPORT,
                                        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    }
  });
  EXPECT_EQ(pro.flush(30s), Status::kOk);
  ASSERT_EQ(log.reports.size(), static_cast<std::size_t>(kCount));
  for (const auto& [n, reports] : log.reports) EXPECT_EQ(reports, 1) << "message " << n;
  EXPECT_EQ(log.acknowledged.size(), static_cast<std::size_t>(kCount))
      << "idempotent retries should deliver every message";

  auto con = make_consumer(orch, topic);
  const auto seen = receive_all(con, log.acknowledged, 20s);
  EXPECT_TRUE(
      std::includes(seen.begin(), seen.end(), log.acknowledged.begin(), log.acknowledged.end()))
      << seen.size() << " of " << log.acknowledged.size() << " acknowledged messages consumed";
}

TEST(KafkaFaults, BrokerDownUpAndLeaderChangeLoseNoAcknowledgedMessage) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1, 3);
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(mock.get(), topic.c_str(), 0, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  auto orch = open(mock.uri());
  ReportLog log;
  auto pro =
      make_producer(orch, topic,
                    {.on_delivery = log.callback(),
                     .backend = {{"message.timeout.ms", "20000"}, {"retry.backoff.ms", "20"}}});
  auto con = make_consumer(orch, topic);
  std::set<std::int64_t> seen;
  auto drain = [&] {
    for (const auto& m : con.receive({}, 0ms, 1000)) seen.insert(number_of(m));
  };
  constexpr std::int64_t kCount = 400;
  send_with_faults(pro, 0, kCount, [&](std::int64_t i) {
    if (i == 100) {
      ASSERT_EQ(pro.flush(10s), Status::kOk);
      ASSERT_EQ(rd_kafka_mock_broker_set_down(mock.get(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (i == 150) {  // the leader moves to a live broker
      ASSERT_EQ(rd_kafka_mock_partition_set_leader(mock.get(), topic.c_str(), 0, 2),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (i == 250) {
      ASSERT_EQ(rd_kafka_mock_broker_set_up(mock.get(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (i == 300) {  // and back, while consuming
      ASSERT_EQ(rd_kafka_mock_partition_set_leader(mock.get(), topic.c_str(), 0, 1),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (i % 50 == 0) drain();
  });
  // Everything is acknowledged (or reported failed) within the message timeout; no hang.
  const auto flushed = pro.flush(30s);
  EXPECT_EQ(flushed, Status::kOk);
  ASSERT_EQ(log.reports.size(), static_cast<std::size_t>(kCount));
  for (const auto& [n, reports] : log.reports) EXPECT_EQ(reports, 1) << "message " << n;
  EXPECT_GE(log.acknowledged.size(), 100u);
  const auto rest = receive_all(con, log.acknowledged, 30s);
  seen.insert(rest.begin(), rest.end());
  EXPECT_TRUE(
      std::includes(seen.begin(), seen.end(), log.acknowledged.begin(), log.acknowledged.end()))
      << seen.size() << " consumed, " << log.acknowledged.size() << " acknowledged";
}

TEST(KafkaFaults, UnreachableBrokerFailsWithinTheTimeout) {
  auto orch = open("kafka://127.0.0.1:1?timeout_ms=500&assign_wait_ms=300&log_level=0");
  auto admin = Admin::create(orch);
  ASSERT_TRUE(admin) << admin.error().message;
  auto start = Clock::now();
  const auto valid = admin->validate_connection(500ms);
  EXPECT_FALSE(valid);
  EXPECT_LT(Clock::now() - start, 2s);
  start = Clock::now();
  EXPECT_FALSE(admin->topics());
  EXPECT_LT(Clock::now() - start, 2s);

  ReportLog log;
  auto pro =
      make_producer(orch, "unreachable", {.flush_timeout = 300ms, .on_delivery = log.callback()});
  start = Clock::now();
  EXPECT_EQ(pro.send(numbered(1), true), Status::kDeliveryUnknown)
      << "queued for a broker that may yet answer: not known to be lost";
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_EQ(pro.close(), Status::kTimeout);
  EXPECT_LT(Clock::now() - start, 3s);
  ASSERT_EQ(log.reports.size(), 1u) << "a message given up at close is still reported once";
  EXPECT_TRUE(log.acknowledged.empty());

  start = Clock::now();
  auto made = Consumer::create("unreachable", orch, {.group = "nobody"});
  ASSERT_TRUE(made) << made.error().message;
  std::vector<mes::MLOpsMessage> out;
  EXPECT_EQ(made->receive(out, {}, 200ms), Status::kTimeout);
  made->close();
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(KafkaFaults, FullQueueBackPressuresOrTimesOut) {
  auto orch = open("kafka://127.0.0.1:1?timeout_ms=300&log_level=0&queue.buffering.max.messages=3");
  ReportLog log;
  auto returning = make_producer(orch, "full",
                                 {.back_pressure = BackPressure::kReturn,
                                  .flush_timeout = 100ms,
                                  .on_delivery = log.callback()});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(returning.send(numbered(i)), Status::kOk);
  EXPECT_EQ(returning.send(numbered(3)), Status::kBackPressured);
  EXPECT_EQ(returning.stats().back_pressured, 1u);

  auto blocking = make_producer(orch, "full", {.send_timeout = 150ms, .flush_timeout = 100ms});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(blocking.send(numbered(i)), Status::kOk);
  const auto start = Clock::now();
  EXPECT_EQ(blocking.send(numbered(3)), Status::kTimeout);
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 2s);

  (void)returning.close();
  EXPECT_EQ(log.reports.size(), 3u) << "each accepted message reported once, at close";
}

TEST(KafkaOptions, UnknownPropertyIsWarnedAboutOnceAndIgnored) {
  // As the other backends do with keys they do not know (and as issue 14 asks): a name
  // that is neither librdkafka's nor kafka-python's does not stop a pipeline stage.
  LogCapture logs;
  auto orch = open("kafka://mock?mock.brokers=1&no.such.property=1");
  const auto first = Producer::create(orch, "t");
  ASSERT_TRUE(first) << first.error().message;
  const auto second = Producer::create(orch, "t");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(logs.count(LogLevel::kWarning, "ignoring unknown option 'no.such.property'"), 1u);
  EXPECT_FALSE(Orchestration::from_uri("kafka://mock?mock.brokers=x"));
  EXPECT_FALSE(Orchestration::from_uri("kafka://h:1?key=everything"));
  auto bad_value = open("kafka://mock?mock.brokers=1&acks=sometimes");
  const auto refused = Producer::create(bad_value, "t");
  ASSERT_FALSE(refused) << "a known property with a bad value is still an error";
  EXPECT_NE(refused.error().message.find("acks"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace mlops::orchestration::testing
