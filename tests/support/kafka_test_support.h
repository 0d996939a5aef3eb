#pragma once
// What the kafka tests share: a mock cluster the test owns (to inject faults into it and
// to make topics of several partitions), clients opened on it, and what they collect.

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>

#include "support/test_support.h"

namespace mlops::orchestration::testing {

/// Kafka protocol API key of Produce requests (rdkafka_protocol.h is not installed).
inline constexpr std::int16_t kProduceApi = 0;

/// Short group timings for tests (the mock delays a group's first join by 3 s regardless).
inline constexpr const char* kTestSettings =
    "session.timeout.ms=5000&heartbeat.interval.ms=300&timeout_ms=5000";

/// A mock cluster owned by the test, so the test can inject faults into it. Declared before
/// anything that talks to it: it must outlive every client.
class MockCluster {
 public:
  explicit MockCluster(int brokers) {
    std::array<char, 256> error{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    (void)rd_kafka_conf_set(conf, "log_level", "0", error.data(), error.size());
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
    if (handle_ != nullptr) cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  }
  ~MockCluster() {
    if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
    if (handle_ != nullptr) rd_kafka_destroy(handle_);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  /// Whether the cluster started.
  [[nodiscard]] bool ok() const { return cluster_ != nullptr; }
  /// The cluster, for librdkafka's rd_kafka_mock_* fault injection.
  [[nodiscard]] rd_kafka_mock_cluster_t* get() const { return cluster_; }
  /// Its brokers' addresses, HOST:PORT,HOST:PORT...
  [[nodiscard]] std::string bootstraps() const {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  /// A kafka:// URI for it with the test settings, then `extra` ("&key=value...").
  [[nodiscard]] std::string uri(const std::string& extra = "") const {
    return "kafka://" + bootstraps() + "?" + kTestSettings + extra;
  }
  /// Makes `topic` with `partitions`, each on `replication` brokers.
  void create_topic(const std::string& topic, int partitions, int replication = 1) const {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, replication),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }

 private:
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

/// The orchestration `uri` opens (a test failure if it does not).
inline Orchestration open(const std::string& uri) {
  auto orch = Orchestration::from_uri(uri);
  EXPECT_TRUE(orch) << orch.error().message;
  return std::move(*orch);
}

/// A producer on `topic` (a test failure if it cannot be made).
inline Producer make_producer(const Orchestration& orch, const std::string& topic,
                              ProducerOptions options = {}) {
  auto made = Producer::create(orch, topic, std::move(options));
  EXPECT_TRUE(made) << made.error().message;
  return std::move(*made);
}

/// A consumer of `topic` (a test failure if it cannot be made).
inline Consumer make_consumer(const Orchestration& orch, const std::string& topic,
                              ConsumerOptions options = {}) {
  auto made = Consumer::create(topic, orch, std::move(options));
  EXPECT_TRUE(made) << made.error().message;
  return std::move(*made);
}

/// A message numbered `n` from `creator` (the record key with key=creator).
inline mes::MLOpsMessage from_creator(std::int64_t n, const std::string& creator) {
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::START)
      .with_creator(creator)
      .with_additional_argument("n", n)
      .build();
}

/// Counts delivery reports per message number, and keeps each one's last status (reports
/// arrive on the sending thread).
struct ReportLog {
  std::map<std::int64_t, int> reports;
  std::map<std::int64_t, Status> status;
  std::set<std::int64_t> acknowledged;
  DeliveryCallback callback() {
    return [this](const DeliveryReport& report) {
      const auto n = number_of(report.message);
      ++reports[n];
      status[n] = report.status;
      if (report.status == Status::kOk) acknowledged.insert(n);
    };
  }
  /// The numbers last reported with `wanted`.
  [[nodiscard]] std::set<std::int64_t> with(Status wanted) const {
    std::set<std::int64_t> numbers;
    for (const auto& [n, got] : status) {
      if (got == wanted) numbers.insert(n);
    }
    return numbers;
  }
};

/// Receives until every number of `wanted` has been seen or `within` passes.
inline std::set<std::int64_t> receive_all(Consumer& consumer, const std::set<std::int64_t>& wanted,
                                          std::chrono::milliseconds within) {
  std::set<std::int64_t> seen;
  const auto deadline = Clock::now() + within;
  while (!std::includes(seen.begin(), seen.end(), wanted.begin(), wanted.end()) &&
         Clock::now() < deadline) {
    for (const auto& m : consumer.receive({}, 100ms, 1000)) seen.insert(number_of(m));
  }
  return seen;
}

}  // namespace mlops::orchestration::testing
