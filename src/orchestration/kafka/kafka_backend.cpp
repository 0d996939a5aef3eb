#include "orchestration/kafka/kafka_backend.h"

#include "orchestration/kafka/kafka_admin.h"
#include "orchestration/kafka/kafka_consumer.h"
#include "orchestration/kafka/kafka_producer.h"

namespace mlops::orchestration::detail::kafka {
namespace {

using orchestration::detail::kafka::Cluster;

class KafkaBackend final : public Backend {
 public:
  explicit KafkaBackend(std::shared_ptr<Cluster> cluster) : cluster_(std::move(cluster)) {}

  Result<std::unique_ptr<ProducerBackend>> make_producer(const ProducerOptions& options) override {
    return orchestration::detail::kafka::KafkaProducer::create(cluster_, options);
  }
  Result<std::unique_ptr<ConsumerBackend>> make_consumer(const ConsumerOptions& options) override {
    return orchestration::detail::kafka::KafkaConsumer::create(cluster_, options);
  }
  Result<void> resolve_group(ConsumerOptions& options) override {
    auto group = orchestration::detail::kafka::KafkaConsumer::resolve_group(*cluster_, options);
    if (!group) return group.error();
    options.group = std::move(*group);
    return {};
  }
  Result<std::unique_ptr<AdminBackend>> make_admin() override {
    return orchestration::detail::kafka::KafkaAdmin::create(cluster_);
  }

 private:
  std::shared_ptr<Cluster> cluster_;
};

}  // namespace

Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint) {
  auto settings = orchestration::detail::kafka::read_settings(endpoint.options, {});
  if (!settings) return settings.error();
  auto cluster = Cluster::open(endpoint.connection, std::move(*settings));
  if (!cluster) return cluster.error();
  return std::shared_ptr<Backend>(std::make_shared<KafkaBackend>(std::move(*cluster)));
}

}  // namespace mlops::orchestration::detail::kafka
