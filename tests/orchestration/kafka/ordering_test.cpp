// What order the kafka backend keeps on a topic of several partitions: records of one key
// stay in order, a producer's key-less records stay in order by default (ordering=producer)
// and spread over a group's members with ordering=none; which key each record carries.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/kafka_test_support.h"

namespace mlops::orchestration::testing {
namespace {

/// Message `n` of the stream of `key` (no key for an empty one).
mes::MLOpsMessage keyed(const std::string& key, std::int64_t n) {
  mes::MessageBuilder builder;
  builder.with_key(key).with_additional_argument("n", n).with_additional_argument("stream", key);
  return builder.build();
}

std::string stream_of(const mes::MLOpsMessage& message) {
  const auto value = message.additional_argument("stream");
  return std::string(value ? value->as_string().value_or("") : "");
}

/// Receives `count` messages with `consumer` within `within`.
std::vector<mes::MLOpsMessage> receive_count(Consumer& consumer, std::size_t count,
                                             std::chrono::seconds within) {
  std::vector<mes::MLOpsMessage> got;
  const auto deadline = Clock::now() + within;
  while (got.size() < count && Clock::now() < deadline) {
    for (auto& m : consumer.receive({}, 100ms, 1000)) got.push_back(std::move(m));
  }
  return got;
}

/// The keys of the first `count` records of partition 0 of `topic`, read with plain
/// librdkafka (nullopt: a record without a key).
std::vector<std::optional<std::string>> record_keys(const MockCluster& mock,
                                                    const std::string& topic, std::size_t count) {
  std::vector<std::optional<std::string>> keys;
  std::array<char, 256> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  EXPECT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", mock.bootstraps().c_str(), error.data(),
                              error.size()),
            RD_KAFKA_CONF_OK);
  EXPECT_EQ(rd_kafka_conf_set(conf, "group.id", "raw-keys", error.data(), error.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  if (raw == nullptr) {
    ADD_FAILURE() << error.data();
    return keys;
  }
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(assignment, topic.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(raw, assignment), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(assignment);
  const auto deadline = Clock::now() + 15s;
  while (keys.size() < count && Clock::now() < deadline) {
    rd_kafka_message_t* record = rd_kafka_consumer_poll(raw, 100);
    if (record == nullptr) continue;
    if (record->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (record->key == nullptr) {
        keys.emplace_back(std::nullopt);
      } else {
        keys.emplace_back(std::string(static_cast<const char*>(record->key), record->key_len));
      }
    }
    rd_kafka_message_destroy(record);
  }
  rd_kafka_destroy_flags(raw, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return keys;
}

TEST(KafkaOrdering, KeyKeepsOrderAcrossPartitions) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 8, 3);
  // ordering=none: only the message keys order anything here.
  auto orch = open(mock.uri("&ordering=none"));
  auto pro = make_producer(orch, topic);
  auto con = make_consumer(orch, topic, {.group = "ordered"});
  constexpr int kKeys = 20;
  constexpr std::int64_t kMessages = 10'000;
  std::vector<std::pair<std::string, std::int64_t>> sent;
  for (std::int64_t i = 0; i < kMessages; ++i) {
    const std::string key = "key-" + std::to_string(i % kKeys);
    ASSERT_EQ(pro.send(keyed(key, i / kKeys)), Status::kOk) << "message " << i;
    sent.emplace_back(key, i / kKeys);
  }
  ASSERT_EQ(pro.flush(30s), Status::kOk);

  const auto got = receive_count(con, kMessages, 60s);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kMessages));
  std::map<std::string, std::vector<std::int64_t>> per_key;
  std::vector<std::pair<std::string, std::int64_t>> received;
  for (const auto& m : got) {
    per_key[stream_of(m)].push_back(number_of(m));
    received.emplace_back(stream_of(m), number_of(m));
    EXPECT_EQ(m.key(), stream_of(m));
  }
  ASSERT_EQ(per_key.size(), static_cast<std::size_t>(kKeys));
  std::vector<std::int64_t> in_order(kMessages / kKeys);
  for (std::size_t i = 0; i < in_order.size(); ++i) in_order[i] = static_cast<std::int64_t>(i);
  for (const auto& [key, numbers] : per_key) EXPECT_EQ(numbers, in_order) << key;
  // The keys really went to several partitions: across keys, the order is not the sent one.
  EXPECT_NE(received, sent);
}

TEST(KafkaOrdering, OneProducersKeylessMessagesKeepTheirOrderByDefault) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 8, 3);
  auto orch = open(mock.uri());
  auto pro = make_producer(orch, topic);
  auto con = make_consumer(orch, topic, {.group = "ordered"});
  constexpr std::int64_t kMessages = 5'000;
  std::vector<std::int64_t> sent;
  for (std::int64_t i = 0; i < kMessages; ++i) {
    ASSERT_EQ(pro.send(numbered(i)), Status::kOk) << "message " << i;
    sent.push_back(i);
    // Flushes now and then give librdkafka's partitioner time to move on (which it does
    // for key-less records).
    if (i % 500 == 499) {
      ASSERT_EQ(pro.flush(10s), Status::kOk);
    }
  }
  ASSERT_EQ(pro.flush(30s), Status::kOk);
  EXPECT_EQ(numbers_of(receive_count(con, kMessages, 60s)), sent);
}

/// Two members of one group polled in turn by this thread, and what each received.
struct TwoMembers {
  Consumer a;
  Consumer b;
  std::vector<mes::MLOpsMessage> from_a{};
  std::vector<mes::MLOpsMessage> from_b{};
  void poll() {
    for (auto& m : a.receive({}, 50ms, 1000)) from_a.push_back(std::move(m));
    for (auto& m : b.receive({}, 50ms, 1000)) from_b.push_back(std::move(m));
  }
};

TwoMembers two_members(const Orchestration& orch, const std::string& topic) {
  // assign_wait_ms=0: both members are polled by this one thread, so neither may block
  // waiting for a rebalance the other one has to take part in.
  const ConsumerOptions options{.group = "workers", .backend = {{"assign_wait_ms", "0"}}};
  return TwoMembers{make_consumer(orch, topic, options), make_consumer(orch, topic, options)};
}

TEST(KafkaOrdering, OrderingNoneSpreadsOneProducerOverTheMembersOfAGroup) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 4, 3);
  auto orch = open(mock.uri("&ordering=none"));
  auto members = two_members(orch, topic);
  auto pro = make_producer(orch, topic);
  std::set<std::int64_t> sent;
  std::int64_t next = 0;
  const auto deadline = Clock::now() + 30s;
  while ((members.from_a.empty() || members.from_b.empty()) && Clock::now() < deadline) {
    for (int i = 0; i < 50; ++i, ++next) {
      ASSERT_EQ(pro.send(numbered(next)), Status::kOk);
      sent.insert(next);
    }
    ASSERT_EQ(pro.flush(5s), Status::kOk);
    members.poll();
  }
  EXPECT_FALSE(members.from_a.empty()) << "one producer's messages reached only the other member";
  EXPECT_FALSE(members.from_b.empty()) << "one producer's messages reached only the other member";
  // Nothing is lost on the way: what is still in flight arrives at one of the two.
  std::set<std::int64_t> seen;
  while (Clock::now() < deadline) {
    seen.clear();
    for (const auto* from : {&members.from_a, &members.from_b}) {
      for (const auto& m : *from) seen.insert(number_of(m));
    }
    if (std::includes(seen.begin(), seen.end(), sent.begin(), sent.end())) break;
    members.poll();
  }
  EXPECT_TRUE(std::includes(seen.begin(), seen.end(), sent.begin(), sent.end()))
      << seen.size() << " of " << sent.size() << " received";
}

// The trade-off of the default: a producer's key-less stream stays in order because it goes
// to one partition, so one member of a group gets all of it.
TEST(KafkaOrdering, OrderingProducerGivesOneProducersStreamToOneMember) {
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 4, 3);
  auto orch = open(mock.uri());
  auto members = two_members(orch, topic);
  // Probes with many keys until both members hold partitions.
  auto prober = make_producer(orch, topic);
  std::int64_t probes = 0;
  const auto deadline = Clock::now() + 30s;
  while ((members.from_a.empty() || members.from_b.empty()) && Clock::now() < deadline) {
    for (int i = 0; i < 32; ++i, ++probes) {
      ASSERT_EQ(prober.send(keyed("probe-" + std::to_string(i), probes)), Status::kOk);
    }
    ASSERT_EQ(prober.flush(5s), Status::kOk);
    members.poll();
  }
  ASSERT_FALSE(members.from_a.empty() || members.from_b.empty()) << "the group never split";
  const auto probes_seen = members.from_a.size() + members.from_b.size();

  auto pro = make_producer(orch, topic);
  constexpr std::int64_t kMessages = 500;
  std::vector<std::int64_t> sent;
  for (std::int64_t i = 0; i < kMessages; ++i) {
    ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
    sent.push_back(i);
  }
  ASSERT_EQ(pro.flush(10s), Status::kOk);
  // Collect the stream (the numbered messages have no "stream" argument; probes do).
  std::vector<std::int64_t> to_a;
  std::vector<std::int64_t> to_b;
  std::size_t a_done = 0;
  std::size_t b_done = 0;
  while (to_a.size() + to_b.size() < sent.size() && Clock::now() < deadline + 30s) {
    members.poll();
    for (; a_done < members.from_a.size(); ++a_done) {
      if (stream_of(members.from_a[a_done]).empty()) {
        to_a.push_back(number_of(members.from_a[a_done]));
      }
    }
    for (; b_done < members.from_b.size(); ++b_done) {
      if (stream_of(members.from_b[b_done]).empty()) {
        to_b.push_back(number_of(members.from_b[b_done]));
      }
    }
  }
  EXPECT_GT(probes_seen, 0u);
  EXPECT_TRUE(to_a.empty() || to_b.empty())
      << "the stream was split: " << to_a.size() << " and " << to_b.size();
  EXPECT_EQ(to_a.empty() ? to_b : to_a, sent) << "one member gets all of it, in order";
}

TEST(KafkaOrdering, RecordKeyIsTheMessageKeyElseTheProducersOwn) {
  MockCluster mock(1);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name();
  mock.create_topic(topic, 1);
  auto orch = open(mock.uri());
  auto first = make_producer(orch, topic);
  auto second = make_producer(orch, topic);
  auto spreading = make_producer(orch, topic, {.backend = {{"ordering", "none"}}});
  auto by_creator = make_producer(orch, topic, {.backend = {{"key", "creator"}}});
  const auto with_creator = [](const std::string& creator, const std::string& key) {
    return mes::MessageBuilder().with_creator(creator).with_key(key).build();
  };
  // One at a time (send and flush), so the partition holds them in this order.
  ASSERT_EQ(first.send(keyed("explicit", 0), true), Status::kOk);
  ASSERT_EQ(first.send(keyed("", 1), true), Status::kOk);
  ASSERT_EQ(first.send(keyed("", 2), true), Status::kOk);
  ASSERT_EQ(second.send(keyed("", 3), true), Status::kOk);
  ASSERT_EQ(spreading.send(keyed("", 4), true), Status::kOk);
  ASSERT_EQ(spreading.send(keyed("explicit", 5), true), Status::kOk);
  ASSERT_EQ(by_creator.send(with_creator("etl", ""), true), Status::kOk);
  ASSERT_EQ(by_creator.send(with_creator("etl", "explicit"), true), Status::kOk);

  const auto keys = record_keys(mock, topic, 8);
  ASSERT_EQ(keys.size(), 8u);
  EXPECT_EQ(keys[0], "explicit") << "the message's key wins";
  ASSERT_TRUE(keys[1].has_value()) << "ordering=producer keys a key-less message";
  EXPECT_FALSE(keys[1]->empty());
  EXPECT_NE(keys[1], "explicit");
  EXPECT_EQ(keys[2], keys[1]) << "one key per producer";
  ASSERT_TRUE(keys[3].has_value());
  EXPECT_NE(keys[3], keys[1]) << "another producer, another key";
  EXPECT_EQ(keys[4], std::nullopt) << "ordering=none leaves a key-less message without one";
  EXPECT_EQ(keys[5], "explicit");
  EXPECT_EQ(keys[6], "etl") << "key=creator keys by the creator";
  EXPECT_EQ(keys[7], "explicit") << "the message's key wins over key=creator";
}

TEST(KafkaOptions, OrderingIsProducerOrNone) {
  const auto bad = Orchestration::from_uri("kafka://h:1?ordering=sideways");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("ordering"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(Orchestration::from_uri("kafka://h:1?ordering=producer"));
  EXPECT_TRUE(Orchestration::from_uri("kafka://h:1?ordering=none"));
  // A producer's own option is read too, and a bad one is an error at create().
  auto orch = open("kafka://mock?mock.brokers=1");
  const auto made = Producer::create(orch, "t", {.backend = {{"ordering", "by-magic"}}});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlops::orchestration::testing
