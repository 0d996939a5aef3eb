#include "orchestration/kafka/kafka_producer.h"

#include <algorithm>
#include <array>

#include "mlops/log.h"

namespace mlops::orchestration::kafka {
namespace {

// Failures are logged this often per producer, then only counted.
constexpr std::uint64_t kMaxFailureLogs = 10;
// How long send() sleeps in rd_kafka_poll at most while waiting for queue room.
constexpr int kRoomPollMs = 10;
constexpr std::string_view kSchemaHeader = "mlops-schema-version";
constexpr std::string_view kContentTypeHeader = "content-type";

Status status_of(rd_kafka_resp_err_t error) noexcept {
  switch (error) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return Status::kOk;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: return Status::kTimeout;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: return Status::kTooLarge;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT: return Status::kClosed;
    default: return Status::kError;
  }
}

}  // namespace

Result<std::unique_ptr<detail::ProducerBackend>> KafkaProducer::create(
    std::shared_ptr<Cluster> cluster, const ProducerOptions& options) {
  auto settings = read_settings(options.backend, cluster->settings());
  if (!settings) return settings.error();
  // Idempotence implies acks=all and in-order retries without duplicates.
  const BackendOptions defaults{{"enable.idempotence", "true"}, {"acks", "all"},
                                {"client.id", "mlops-producer"}};
  auto conf = make_conf(*cluster, defaults, settings->properties);
  if (!conf) return conf.error();
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer(cluster, *settings, options));
  rd_kafka_conf_set_opaque(conf->get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::on_report);
  auto client = make_client(RD_KAFKA_PRODUCER, *conf, std::move(cluster));
  if (!client) return client.error();
  producer->client_ = std::move(*client);
  return std::unique_ptr<detail::ProducerBackend>(std::move(producer));
}

void KafkaProducer::on_report(rd_kafka_t* /*handle*/, const rd_kafka_message_t* record,
                              void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  const std::unique_ptr<messaging::MLOpsMessage> held(
      static_cast<messaging::MLOpsMessage*>(record->_private));
  if (record->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->failed_since_flush_;
    if (record->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
        record->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      self->log_failure(std::string("delivery to ") + rd_kafka_topic_name(record->rkt) +
                        " failed: " + rd_kafka_err2str(record->err));
    }
  }
  if (held != nullptr && self->options_.on_delivery) {
    self->options_.on_delivery(
        DeliveryReport{rd_kafka_topic_name(record->rkt), *held, status_of(record->err)});
  }
}

void KafkaProducer::log_failure(const std::string& text) noexcept {
  if (failures_logged_++ >= kMaxFailureLogs) return;
  try {
    mlops::log(LogLevel::kError, "kafka producer: " + text);
  } catch (...) {  // A failing log hook must not stop the producer.
  }
}

rd_kafka_topic_t* KafkaProducer::topic_handle(std::string_view topic) {
  if (auto found = topics_.find(topic); found != topics_.end()) return found->second;
  std::string name(topic);
  cluster_->ensure_mock_topic(name);
  rd_kafka_topic_t* handle = rd_kafka_topic_new(client_->get(), name.c_str(), nullptr);
  if (handle == nullptr) return nullptr;
  topics_.emplace(std::move(name), handle);
  return handle;
}

Status KafkaProducer::produce(std::string_view topic, std::span<const std::uint8_t> bytes,
                              std::string_view key, messaging::MLOpsMessage* held) noexcept {
  std::unique_ptr<messaging::MLOpsMessage> owned(held);  // librdkafka's once produced
  rd_kafka_topic_t* handle = nullptr;
  try {
    handle = topic_handle(topic);
  } catch (...) {
    handle = nullptr;
  }
  if (handle == nullptr) return Status::kError;
  // A held message's bytes stay alive until its report: no copy. Raw bytes are copied.
  const int flags = held != nullptr ? 0 : RD_KAFKA_MSG_F_COPY;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): librdkafka takes void* but only reads.
  void* payload = bytes.empty() ? nullptr : const_cast<std::uint8_t*>(bytes.data());
  const auto deadline = detail::Clock::now() + options_.send_timeout;
  for (;;) {
    // rd_kafka_produceva, not the RD_KAFKA_V_* macros: those use GNU statement expressions.
    std::array<rd_kafka_vu_t, 7> fields{};
    std::size_t count = 0;
    fields[count].vtype = RD_KAFKA_VTYPE_RKT;
    fields[count++].u.rkt = handle;
    fields[count].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[count++].u.i = flags;
    fields[count].vtype = RD_KAFKA_VTYPE_VALUE;
    fields[count++].u.mem = {payload, bytes.size()};
    if (held != nullptr) {
      if (!key.empty()) {
        fields[count].vtype = RD_KAFKA_VTYPE_KEY;
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): librdkafka copies the key.
        fields[count++].u.mem = {const_cast<char*>(key.data()), key.size()};
      }
      fields[count].vtype = RD_KAFKA_VTYPE_HEADER;
      fields[count++].u.header = {kContentTypeHeader.data(), kContentType.data(),
                                  static_cast<ssize_t>(kContentType.size())};
      fields[count].vtype = RD_KAFKA_VTYPE_HEADER;
      fields[count++].u.header = {kSchemaHeader.data(), kSchemaVersion.data(),
                                  static_cast<ssize_t>(kSchemaVersion.size())};
      fields[count].vtype = RD_KAFKA_VTYPE_OPAQUE;
      fields[count++].u.ptr = owned.get();
    }
    rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (rd_kafka_error_t* failure = rd_kafka_produceva(client_->get(), fields.data(), count)) {
      error = rd_kafka_error_code(failure);
      rd_kafka_error_destroy(failure);
    }
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)owned.release();  // freed by on_report
      rd_kafka_poll(client_->get(), 0);  // serve the reports that are ready
      return Status::kOk;
    }
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      try {
        log_failure("send to " + std::string(topic) + " refused: " + rd_kafka_err2str(error));
      } catch (...) {
      }
      return error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? Status::kTooLarge : Status::kError;
    }
    if (options_.back_pressure == BackPressure::kReturn) {
      rd_kafka_poll(client_->get(), 0);
      return Status::kBackPressured;
    }
    const int left = remaining_ms(deadline);
    if (left == 0) return Status::kTimeout;
    // Reports free queue room; serving them is how room comes back.
    rd_kafka_poll(client_->get(), std::min(left, kRoomPollMs));
  }
}

Status KafkaProducer::send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept {
  if (client_ == nullptr) return Status::kClosed;
  messaging::MLOpsMessage* held = nullptr;
  try {
    if (message.is_owning()) {
      held = new messaging::MLOpsMessage(message);
    } else {
      // A view of a builder's buffer may change after send() returns: own a copy.
      auto copy = messaging::MLOpsMessage::from_bytes(message.bytes());
      if (!copy) return Status::kError;
      held = new messaging::MLOpsMessage(std::move(*copy));
    }
  } catch (...) {
    delete held;
    return Status::kError;
  }
  std::string_view key;
  if (settings_.key == KeySource::kCreator) key = held->creator().value_or(std::string_view());
  return produce(topic, held->bytes(), key, held);
}

Status KafkaProducer::send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept {
  if (client_ == nullptr) return Status::kClosed;
  return produce(topic, bytes, {}, nullptr);
}

Status KafkaProducer::flush(detail::Deadline deadline) noexcept {
  if (client_ == nullptr) return Status::kClosed;
  // rd_kafka_flush serves delivery reports while it waits.
  const rd_kafka_resp_err_t error = rd_kafka_flush(client_->get(), remaining_ms(deadline));
  if (error == RD_KAFKA_RESP_ERR__TIMED_OUT) return Status::kTimeout;
  if (failed_since_flush_ != 0) {
    failed_since_flush_ = 0;
    return Status::kError;
  }
  return error == RD_KAFKA_RESP_ERR_NO_ERROR ? Status::kOk : Status::kError;
}

void KafkaProducer::close() noexcept {
  if (client_ == nullptr) return;
  rd_kafka_t* handle = client_->get();
  // What flush() could not deliver is given up: purged records get their report now
  // (status kClosed), so every held message is released and reported exactly once.
  (void)rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  const auto deadline = detail::Clock::now() + settings_.timeout;
  while (rd_kafka_outq_len(handle) > 0 && remaining_ms(deadline) > 0) {
    (void)rd_kafka_flush(handle, std::min(remaining_ms(deadline), 100));
  }
  for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
  topics_.clear();
  client_.reset();
}

}  // namespace mlops::orchestration::kafka
