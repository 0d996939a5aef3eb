#pragma once
// Kafka administration: metadata for validate_connection() and topics(), CreateTopics.

#include <memory>
#include <mutex>

#include "orchestration/backend.h"
#include "orchestration/kafka/kafka_client.h"

namespace mlops::orchestration::detail::kafka {

/// Thread-safe (one mutex around one librdkafka client). create_topic() uses the
/// CreateTopics admin API; librdkafka's mock cluster does not implement it, so on the mock
/// the topic is made with rd_kafka_mock_topic_create instead. TopicOptions::backend may
/// hold num.partitions and replication.factor (default: the broker's) and topic configs.
class KafkaAdmin final : public detail::AdminBackend {
 public:
  static Result<std::unique_ptr<detail::AdminBackend>> create(std::shared_ptr<Cluster> cluster);

  Result<void> validate_connection(detail::Deadline deadline) override;
  Result<std::vector<std::string>> topics() override;
  Result<void> create_topic(std::string_view name, const TopicOptions& options) override;
  /// Watermarks per partition, groups from ListConsumerGroups (unless named), their offsets
  /// from ListConsumerGroupOffsets (kafka_lag.cpp).
  Result<std::vector<TopicLag>> lag(std::string_view topic,
                                    const std::optional<std::vector<std::string>>& groups) override;

 private:
  KafkaAdmin(std::shared_ptr<Cluster> cluster, std::shared_ptr<Client> client)
      : cluster_(std::move(cluster)), client_(std::move(client)) {}

  std::shared_ptr<Cluster> cluster_;
  std::shared_ptr<Client> client_;
  std::mutex mutex_;
};

}  // namespace mlops::orchestration::detail::kafka
