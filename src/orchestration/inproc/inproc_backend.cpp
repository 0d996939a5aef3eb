#include "orchestration/inproc/inproc_backend.h"

#include "orchestration/inproc/broker.h"
#include "orchestration/inproc/inproc_admin.h"
#include "orchestration/inproc/inproc_consumer.h"
#include "orchestration/inproc/inproc_producer.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::inproc {
namespace {

class InprocBackend final : public Backend {
 public:
  explicit InprocBackend(Broker& broker) : broker_(broker) {}

  Result<std::unique_ptr<ProducerBackend>> make_producer(const ProducerOptions& options) override {
    warn_ignored_options("producer", options.backend);
    return std::unique_ptr<ProducerBackend>(std::make_unique<InprocProducer>(broker_, options));
  }
  Result<std::unique_ptr<ConsumerBackend>> make_consumer(const ConsumerOptions& options) override {
    warn_ignored_options("consumer", options.backend);
    return std::unique_ptr<ConsumerBackend>(std::make_unique<InprocConsumer>(broker_, options));
  }
  Result<std::unique_ptr<AdminBackend>> make_admin() override {
    return std::unique_ptr<AdminBackend>(std::make_unique<InprocAdmin>(broker_));
  }

 private:
  Broker& broker_;
};

}  // namespace

Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint) {
  if (endpoint.connection.empty()) {
    return Error{ErrorCode::kInvalidArgument,
                 "inproc needs a broker name, as in 'inproc://pipeline'"};
  }
  auto broker = Broker::open(endpoint.connection, endpoint.options);
  if (!broker) return broker.error();
  return std::shared_ptr<Backend>(std::make_shared<InprocBackend>(**broker));
}

}  // namespace mlops::orchestration::detail::inproc
