#include "orchestration/redis/redis_backend.h"

#include "orchestration/redis/redis_admin.h"
#include "orchestration/redis/redis_consumer.h"
#include "orchestration/redis/redis_producer.h"

namespace mlops::orchestration::detail::redis {
namespace {

class RedisBackend final : public Backend {
 public:
  explicit RedisBackend(RedisSettings settings) : settings_(std::move(settings)) {}

  Result<std::unique_ptr<ProducerBackend>> make_producer(const ProducerOptions& options) override {
    auto settings = read_settings(options.backend, settings_);
    if (!settings) return settings.error();
    return std::unique_ptr<ProducerBackend>(
        std::make_unique<RedisProducer>(std::move(*settings), options));
  }
  Result<std::unique_ptr<ConsumerBackend>> make_consumer(const ConsumerOptions& options) override {
    auto settings = read_settings(options.backend, settings_);
    if (!settings) return settings.error();
    return std::unique_ptr<ConsumerBackend>(
        std::make_unique<RedisConsumer>(std::move(*settings), options));
  }
  Result<std::unique_ptr<AdminBackend>> make_admin() override {
    return std::unique_ptr<AdminBackend>(std::make_unique<RedisAdmin>(settings_));
  }

 private:
  const RedisSettings settings_;
};

}  // namespace

Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint) {
  auto base = parse_connection(endpoint.connection);
  if (!base) return base.error();
  auto settings = read_settings(endpoint.options, std::move(*base));
  if (!settings) return settings.error();
  return std::shared_ptr<Backend>(std::make_shared<RedisBackend>(std::move(*settings)));
}

}  // namespace mlops::orchestration::detail::redis
