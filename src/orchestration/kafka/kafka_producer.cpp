#include "orchestration/kafka/kafka_producer.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>

#include "mlops/log.h"
#include "orchestration/option_reader.h"
#include "orchestration/producer_sharing.h"

namespace mlops::orchestration::detail::kafka {
namespace {

// How long send() sleeps in rd_kafka_poll at most while waiting for queue room.
constexpr int kRoomPollMs = 10;
// flush() waits in slices of this, taking the producer's lock for each, so threads that
// share the producer send meanwhile.
constexpr int kFlushSliceMs = 10;
// Held slots allocated at once when the free list is empty.
constexpr std::size_t kHeldChunk = 256;

// A record's outcome as librdkafka knows it: persisted, not persisted (and why), or possibly
// persisted (sent, no answer: purged in flight at close, or its acknowledgement timed out).
Status status_of(const rd_kafka_message_t* record) noexcept {
  switch (rd_kafka_message_status(record)) {
    case RD_KAFKA_MSG_STATUS_PERSISTED: return Status::kOk;
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED: return Status::kDeliveryUnknown;
    case RD_KAFKA_MSG_STATUS_NOT_PERSISTED: break;
  }
  switch (record->err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return Status::kOk;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: return Status::kTimeout;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: return Status::kTooLarge;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT: return Status::kClosed;
    default: return Status::kError;
  }
}

// The value of the first of `names` (librdkafka's aliases of one property) in `properties`.
std::optional<std::string> property(const BackendOptions& properties,
                                    std::initializer_list<std::string_view> names) {
  for (const auto name : names) {
    if (const auto found = properties.find(name); found != properties.end()) return found->second;
  }
  return std::nullopt;
}

// A property's whole number (librdkafka's own values are never negative here), or nothing.
std::optional<std::uint64_t> integer(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return detail::whole_number(*text, 0, std::numeric_limits<std::uint64_t>::max());
}

// What among the user's properties idempotence forbids (acks other than all, no retries,
// more than 5 requests in flight), or empty. librdkafka refuses those with idempotence on.
std::string forbids_idempotence(const BackendOptions& properties) {
  if (const auto acks = property(properties, {"acks", "request.required.acks"});
      acks && *acks != "all" && *acks != "-1") {
    return "acks=" + *acks;
  }
  if (const auto retries = property(properties, {"retries", "message.send.max.retries"});
      integer(retries) == 0U) {
    return "retries=" + *retries;
  }
  if (const auto in_flight =
          property(properties, {"max.in.flight", "max.in.flight.requests.per.connection"});
      integer(in_flight).value_or(0) > 5U) {
    return "max.in.flight.requests.per.connection=" + *in_flight;
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<detail::ProducerBackend>> KafkaProducer::create(
    std::shared_ptr<Cluster> cluster, const ProducerOptions& options) {
  auto settings = read_settings(options.backend, cluster->settings());
  if (!settings) return settings.error();
  // Idempotence implies acks=all and in-order retries without duplicates. The default gives
  // way to what the user set that forbids it (kafka-python's acks=1, retries=0, ...) unless
  // the user set enable.idempotence too (then librdkafka says what conflicts).
  BackendOptions defaults{
      {"enable.idempotence", "true"}, {"acks", "all"}, {"client.id", "mlops-producer"}};
  if (!settings->properties.contains("enable.idempotence")) {
    if (const auto reason = forbids_idempotence(settings->properties); !reason.empty()) {
      defaults.insert_or_assign("enable.idempotence", "false");
      static std::atomic<bool> told{false};
      if (!told.exchange(true)) {
        log(LogLevel::kInfo, "kafka producer: not idempotent, since " + reason +
                                 " forbids it (set enable.idempotence to choose)");
      }
    }
  }
  auto conf = make_conf(*cluster, defaults, settings->properties);
  if (!conf) return conf.error();
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer(cluster, *settings, options));
  producer->locking_ = detail::producer_sharing();
  if (settings->ordering == Ordering::kProducer) {
    // Unique per producer, so that producers spread over the partitions between them.
    producer->own_key_ = messaging::MessageId::generate(messaging::unix_now_ns()).to_string();
  }
  rd_kafka_conf_set_opaque(conf->get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::on_report);
  auto client = make_client(RD_KAFKA_PRODUCER, *conf, std::move(cluster));
  if (!client) return client.error();
  producer->client_ = std::move(*client);
  return std::unique_ptr<detail::ProducerBackend>(std::move(producer));
}

KafkaProducer::Held* KafkaProducer::acquire(const messaging::MLOpsMessage& message) {
  // The same owning message as the latest send: its bytes are immutable and alive (the slot
  // holds them), so the same address and size mean the same bytes. (A view's buffer may
  // hold other bytes by now: views always get a slot of their own.)
  if (message.is_owning() && last_held_ != nullptr &&
      last_held_->message->bytes().data() == message.bytes().data() &&
      last_held_->message->bytes().size() == message.bytes().size()) {
    ++last_held_->records;
    return last_held_;
  }
  if (free_held_ == nullptr) {
    auto chunk = std::make_unique<Held[]>(kHeldChunk);
    for (std::size_t i = 0; i + 1 < kHeldChunk; ++i) chunk[i].next_free = &chunk[i + 1];
    held_chunks_.push_back(std::move(chunk));  // may throw: nothing is taken yet
    free_held_ = held_chunks_.back().get();
  }
  // A view of a builder's buffer may change after send() returns: owned() copies it.
  messaging::MLOpsMessage kept = message.owned();  // may throw: nothing is taken yet
  Held* held = free_held_;
  free_held_ = held->next_free;
  held->message.emplace(std::move(kept));
  held->records = 1;
  last_held_ = held;
  return held;
}

void KafkaProducer::release(Held* held) noexcept {
  if (--held->records > 0) return;
  held->message.reset();
  held->next_free = free_held_;
  free_held_ = held;
  if (last_held_ == held) last_held_ = nullptr;
}

void KafkaProducer::on_report(rd_kafka_t* /*handle*/, const rd_kafka_message_t* record,
                              void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  auto* held = static_cast<Held*>(record->_private);
  if (record->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->failed_since_flush_;
    if (record->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
        record->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      try {
        self->problems_.log(std::string("delivery to ") + rd_kafka_topic_name(record->rkt) +
                            " failed: " + rd_kafka_err2str(record->err));
      } catch (...) {  // Nothing may leave a librdkafka callback.
      }
    }
  }
  if (held == nullptr) return;  // send_raw(): librdkafka copied the bytes
  if (!self->options_.on_delivery) {
    self->release(held);
    return;
  }
  // librdkafka is done with these bytes: the slot's reference moves into the report (a copy
  // while other records still hold the slot), and the slot is released before the callback,
  // which may send again and must find no half-emptied slot to share.
  DeliveryReport report{rd_kafka_topic_name(record->rkt),
                        held->records == 1 ? std::move(*held->message) : *held->message,
                        status_of(record)};
  self->release(held);
  self->options_.on_delivery(report);
}

rd_kafka_topic_t* KafkaProducer::topic_handle(std::string_view topic) {
  if (last_topic_ != nullptr && topic == last_topic_name_) return last_topic_;
  auto found = topics_.find(topic);
  if (found == topics_.end()) {
    std::string name(topic);
    cluster_->ensure_mock_topic(name);
    rd_kafka_topic_t* handle = rd_kafka_topic_new(client_->get(), name.c_str(), nullptr);
    if (handle == nullptr) return nullptr;
    found = topics_.emplace(std::move(name), handle).first;
  }
  last_topic_name_ = found->first;  // a map's keys stay where they are
  last_topic_ = found->second;
  return last_topic_;
}

Status KafkaProducer::produce(std::string_view topic, std::span<const std::uint8_t> bytes,
                              std::string_view key, Held* held) noexcept {
  // `held` becomes librdkafka's once produced; until then any return gives it back.
  struct GiveBack {
    KafkaProducer* self;
    Held* held;
    GiveBack(KafkaProducer* owner, Held* slot) noexcept : self(owner), held(slot) {}
    GiveBack(const GiveBack&) = delete;
    GiveBack& operator=(const GiveBack&) = delete;
    ~GiveBack() {
      if (held != nullptr) self->release(held);
    }
  } give_back{this, held};
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
  // rd_kafka_produceva, not the RD_KAFKA_V_* macros: those use GNU statement expressions.
  std::array<rd_kafka_vu_t, 6> fields{};
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
    // One header: librdkafka allocates for each header of each record.
    fields[count].vtype = RD_KAFKA_VTYPE_HEADER;
    fields[count++].u.header = {kContentTypeHeader.data(), kContentType.data(),
                                static_cast<ssize_t>(kContentType.size())};
    fields[count].vtype = RD_KAFKA_VTYPE_OPAQUE;
    fields[count++].u.ptr = held;
  }
  std::optional<detail::Deadline> deadline;  // the clock is read only once the queue is full
  for (;;) {
    rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (rd_kafka_error_t* failure = rd_kafka_produceva(client_->get(), fields.data(), count)) {
      error = rd_kafka_error_code(failure);
      rd_kafka_error_destroy(failure);
    }
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      give_back.held = nullptr;          // released in its report
      rd_kafka_poll(client_->get(), 0);  // serve the reports that are ready
      return Status::kOk;
    }
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      try {
        problems_.log("send to " + std::string(topic) + " refused: " + rd_kafka_err2str(error));
      } catch (...) {
      }
      return error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? Status::kTooLarge : Status::kError;
    }
    if (options_.back_pressure == BackPressure::kReturn) {
      rd_kafka_poll(client_->get(), 0);
      return Status::kBackPressured;
    }
    if (!deadline) deadline = detail::Clock::now() + options_.send_timeout;
    const int left = remaining_ms(*deadline);
    if (left == 0) return Status::kTimeout;
    // Reports free queue room; serving them is how room comes back.
    rd_kafka_poll(client_->get(), std::min(left, kRoomPollMs));
  }
}

Status KafkaProducer::send(std::string_view topic,
                           const messaging::MLOpsMessage& message) noexcept {
  const auto locked = lock();
  if (client_ == nullptr) return Status::kClosed;
  Held* held = nullptr;
  try {
    held = acquire(message);
  } catch (...) {
    return Status::kError;  // acquire() takes no slot when it throws
  }
  const messaging::MLOpsMessage& kept = *held->message;
  std::string_view key = kept.key().value_or(std::string_view());
  if (key.empty() && settings_.key == KeySource::kCreator) {
    key = kept.creator().value_or(std::string_view());
  }
  if (key.empty()) key = own_key_;  // empty under ordering=none: the partitioner spreads
  return produce(topic, kept.bytes(), key, held);
}

Status KafkaProducer::send_raw(std::string_view topic,
                               std::span<const std::uint8_t> bytes) noexcept {
  const auto locked = lock();
  if (client_ == nullptr) return Status::kClosed;
  return produce(topic, bytes, {}, nullptr);
}

Status KafkaProducer::flush(detail::Deadline deadline) noexcept {
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR__TIMED_OUT;
  auto locked = lock();
  for (;;) {
    if (client_ == nullptr) return Status::kClosed;
    // rd_kafka_flush serves delivery reports while it waits.
    const int left = remaining_ms(deadline);
    error = rd_kafka_flush(client_->get(), std::min(left, kFlushSliceMs));
    if (error != RD_KAFKA_RESP_ERR__TIMED_OUT || left <= kFlushSliceMs) break;
    locked = lock_after(std::move(locked));
  }
  if (error == RD_KAFKA_RESP_ERR__TIMED_OUT) return Status::kTimeout;
  if (failed_since_flush_ != 0) {
    failed_since_flush_ = 0;
    return Status::kError;
  }
  return error == RD_KAFKA_RESP_ERR_NO_ERROR ? Status::kOk : Status::kError;
}

void KafkaProducer::close() noexcept {
  const auto locked = lock();
  if (client_ == nullptr) return;
  rd_kafka_t* handle = client_->get();
  // What flush() could not deliver is given up: purged records get their report now, so
  // every held message is released and reported exactly once: kClosed for records never
  // sent, kDeliveryUnknown for records in flight (the brokers may have written them).
  (void)rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  const auto deadline = detail::Clock::now() + settings_.timeout;
  while (rd_kafka_outq_len(handle) > 0 && remaining_ms(deadline) > 0) {
    (void)rd_kafka_flush(handle, std::min(remaining_ms(deadline), 100));
  }
  for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
  topics_.clear();
  last_topic_ = nullptr;
  last_topic_name_ = {};
  // Records never reported hold slots still: the slots (freed with this object) outlive
  // the client, which reads their bytes until it is destroyed here.
  client_.reset();
}

}  // namespace mlops::orchestration::detail::kafka
