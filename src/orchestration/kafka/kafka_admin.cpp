#include "orchestration/kafka/kafka_admin.h"

#include <algorithm>
#include <array>
#include <limits>

#include "orchestration/option_reader.h"

namespace mlops::orchestration::detail::kafka {
namespace {

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const noexcept {
    rd_kafka_metadata_destroy(metadata);
  }
};

Error unreachable(const Cluster& cluster, rd_kafka_resp_err_t error) {
  return Error{
      error == RD_KAFKA_RESP_ERR__TIMED_OUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
      "kafka brokers " + cluster.bootstrap() +
          " did not answer a metadata request: " + rd_kafka_err2str(error)};
}

// A topic option, or -1 (the broker's default) when absent.
Result<int> read_topic_count(detail::OptionReader& reader, std::string_view key) {
  auto text = reader.text(key);
  if (!text || *text == "-1") return -1;
  auto value = detail::whole_number(*text, 1, std::numeric_limits<int>::max());
  if (!value)
    return reader.invalid(key, "must be -1 (the broker's default) or a whole number from 1");
  return static_cast<int>(*value);
}

}  // namespace

Result<std::unique_ptr<detail::AdminBackend>> KafkaAdmin::create(std::shared_ptr<Cluster> cluster) {
  auto conf = make_conf(*cluster, {{"client.id", "mlops-admin"}}, cluster->settings().properties);
  if (!conf) return conf.error();
  auto client = make_client(RD_KAFKA_PRODUCER, *conf, cluster);
  if (!client) return client.error();
  return std::unique_ptr<detail::AdminBackend>(
      new KafkaAdmin(std::move(cluster), std::move(*client)));
}

Result<void> KafkaAdmin::validate_connection(detail::Deadline deadline) {
  const std::lock_guard lock(mutex_);
  const rd_kafka_metadata_t* raw = nullptr;
  // Brokers only (no topic list): the cheapest request that needs a live broker.
  const rd_kafka_resp_err_t error =
      rd_kafka_metadata(client_->get(), 0, nullptr, &raw, std::max(remaining_ms(deadline), 1));
  const std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> metadata(raw);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return unreachable(*cluster_, error);
  if (metadata->broker_cnt == 0) {
    return Error{ErrorCode::kUnavailable,
                 "kafka brokers " + cluster_->bootstrap() + " list no broker"};
  }
  return {};
}

Result<std::vector<std::string>> KafkaAdmin::topics() {
  const std::lock_guard lock(mutex_);
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t error = rd_kafka_metadata(
      client_->get(), 1, nullptr, &raw, static_cast<int>(cluster_->settings().timeout.count()));
  const std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> metadata(raw);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return unreachable(*cluster_, error);
  std::vector<std::string> names;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    std::string_view name = metadata->topics[i].topic;
    // Kafka's internal topics (__consumer_offsets, ...) are not the pipeline's.
    if (name.starts_with("__") || metadata->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<void> KafkaAdmin::create_topic(std::string_view name, const TopicOptions& options) {
  detail::OptionReader reader("kafka topic", options.backend);
  auto partitions = read_topic_count(reader, "num.partitions");
  if (!partitions) return partitions.error();
  auto replication = read_topic_count(reader, "replication.factor");
  if (!replication) return replication.error();
  if (cluster_->is_mock()) {
    cluster_->ensure_mock_topic(name, std::max(*partitions, 0));
    return {};
  }
  const std::lock_guard lock(mutex_);
  const std::string topic(name);
  std::array<char, 512> text{};
  rd_kafka_NewTopic_t* request =
      rd_kafka_NewTopic_new(topic.c_str(), *partitions, *replication, text.data(), text.size());
  if (request == nullptr) {
    return Error{ErrorCode::kInvalidArgument, "kafka create_topic " + topic + ": " + text.data()};
  }
  for (const auto& [key, value] : options.backend) {
    if (key == "num.partitions" || key == "replication.factor") continue;
    if (rd_kafka_NewTopic_set_config(request, key.c_str(), value.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_NewTopic_destroy(request);
      return Error{ErrorCode::kInvalidArgument, "kafka topic config " + key + " refused"};
    }
  }
  const int timeout = static_cast<int>(cluster_->settings().timeout.count());
  rd_kafka_AdminOptions_t* admin_options =
      rd_kafka_AdminOptions_new(client_->get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  (void)rd_kafka_AdminOptions_set_request_timeout(admin_options, timeout, text.data(), text.size());
  (void)rd_kafka_AdminOptions_set_operation_timeout(admin_options, timeout, text.data(),
                                                    text.size());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(client_->get());
  rd_kafka_CreateTopics(client_->get(), &request, 1, admin_options, queue);
  // The request times out on its own by then; the margin covers the reply's way back.
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout + 1000);
  Result<void> result;
  if (event == nullptr) {
    result = Error{ErrorCode::kTimeout, "kafka create_topic " + topic + ": no answer"};
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = Error{ErrorCode::kUnavailable,
                   "kafka create_topic " + topic + ": " + rd_kafka_event_error_string(event)};
  } else {
    std::size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto error = rd_kafka_topic_result_error(results[i]);
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        continue;
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      result = Error{error == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION ? ErrorCode::kInvalidArgument
                                                                : ErrorCode::kUnavailable,
                     "kafka create_topic " + topic + ": " + (why ? why : rd_kafka_err2str(error))};
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(admin_options);
  rd_kafka_NewTopic_destroy(request);
  return result;
}

}  // namespace mlops::orchestration::detail::kafka
