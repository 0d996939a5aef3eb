#include "orchestration/none/none_backend.h"

#include <mutex>

#include "mlops/log.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::none {
namespace {

class NoneProducer final : public ProducerBackend {
 public:
  bool shareable() const noexcept override { return true; }  // it keeps nothing
  Status send(std::string_view, const messaging::MLOpsMessage&) noexcept override {
    return Status::kOk;
  }
  Status send_raw(std::string_view, std::span<const std::uint8_t>) noexcept override {
    return Status::kOk;
  }
  Status flush(Deadline) noexcept override { return Status::kOk; }
  void close() noexcept override {}
};

class NoneConsumer final : public ConsumerBackend {
 public:
  Result<void> assign(std::span<const std::string>) override { return {}; }
  Status poll(std::vector<Delivery>&, std::size_t, Deadline) noexcept override {
    return Status::kOk;
  }
  Status commit() noexcept override { return Status::kOk; }
  // Holds nothing, so every position is where it already is.
  Result<void> seek(std::string_view, bool) override { return {}; }
  // A time or a message: none held, so none passed over.
  Result<std::uint64_t> seek_to(std::string_view, const SeekProbe&) override {
    return std::uint64_t{0};
  }
  void close() noexcept override {}
};

class NoneAdmin final : public AdminBackend {
 public:
  Result<void> validate_connection(Deadline) override { return {}; }
  Result<std::vector<std::string>> topics() override { return std::vector<std::string>{}; }
  Result<void> create_topic(std::string_view, const TopicOptions&) override { return {}; }
};

class NoneBackend final : public Backend {
 public:
  Result<std::unique_ptr<ProducerBackend>> make_producer(const ProducerOptions&) override {
    return std::unique_ptr<ProducerBackend>(std::make_unique<NoneProducer>());
  }
  Result<std::unique_ptr<ConsumerBackend>> make_consumer(const ConsumerOptions&) override {
    return std::unique_ptr<ConsumerBackend>(std::make_unique<NoneConsumer>());
  }
  Result<std::unique_ptr<AdminBackend>> make_admin() override {
    return std::unique_ptr<AdminBackend>(std::make_unique<NoneAdmin>());
  }
};

}  // namespace

Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint) {
  if (!endpoint.connection.empty()) {
    return Error{ErrorCode::kInvalidArgument, "the none orchestrator takes no connection (got " +
                                                  quote_text(endpoint.connection) +
                                                  "); write 'none:'"};
  }
  static std::once_flag warned;
  std::call_once(warned, [] {
    log(LogLevel::kWarning,
        "orchestration 'none': messages go nowhere; every call succeeds as a no-op and "
        "receive() returns nothing");
  });
  static const auto backend = std::make_shared<NoneBackend>();
  return std::shared_ptr<Backend>(backend);
}

}  // namespace mlops::orchestration::detail::none
