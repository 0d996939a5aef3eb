#pragma once
// A Kafka producer: librdkafka's idempotent producer with per-message delivery reports.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "orchestration/backend.h"
#include "orchestration/kafka/kafka_client.h"
#include "orchestration/log_limiter.h"

namespace mlops::orchestration::detail::kafka {

/// send() hands msg.bytes() to librdkafka without copying them: a copy of the message (a
/// reference-count bump) in a recycled slot rides along as the record's opaque and is
/// released in its delivery report. Records of one owning message sent one after another
/// (to several topics, or again) share a slot that counts them, so the message's own count,
/// on a cache line librdkafka's threads read, is touched once for all of them. Reports are served
/// on the caller's thread, inside send(), flush() and close(), so ProducerOptions::on_delivery runs
/// there, exactly once per record. Shareable: every call holds the producer's lock (recursive, as a
/// delivery callback may send again), reports are served under it (one at a time), and flush()
/// waits in slices so other threads send meanwhile. Every record carries one header, content-type
/// (kContentType: the media type with the schema version as a parameter). The record key
/// is the message's key(), else its creator under key=creator, else, under
/// ordering=producer (the default), a key made for this producer; else there is none.
/// flush() returns kOk once every record sent so far is acknowledged by the brokers
/// (acks=all with idempotence by default), kError if any of them failed since the last flush.
class KafkaProducer final : public detail::ProducerBackend {
 public:
  static Result<std::unique_ptr<detail::ProducerBackend>> create(std::shared_ptr<Cluster> cluster,
                                                                 const ProducerOptions& options);
  ~KafkaProducer() override { close(); }
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  Status send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept override;
  Status send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept override;
  Status flush(detail::Deadline deadline) noexcept override;
  void close() noexcept override;
  bool shareable() const noexcept override { return true; }

 private:
  KafkaProducer(std::shared_ptr<Cluster> cluster, KafkaSettings settings, ProducerOptions options)
      : cluster_(std::move(cluster)),
        settings_(std::move(settings)),
        options_(std::move(options)),
        problems_(LogLevel::kError, "kafka producer", settings_.log_interval) {}

  /// What a record's opaque points at until its delivery report: the message that keeps
  /// its bytes alive. Slots come in chunks and go back to a free list, so a steady stream
  /// of sends allocates nothing here (the pool keeps its high-water mark).
  struct Held {
    std::optional<messaging::MLOpsMessage> message;
    std::uint64_t records = 0;  // records in flight that hold this slot
    Held* next_free = nullptr;
  };
  /// A slot holding `message` (owned() of it) for one more record. Throws std::bad_alloc.
  Held* acquire(const messaging::MLOpsMessage& message);
  /// Ends one record's hold; the slot is free once no record holds it.
  void release(Held* held) noexcept;

  static void on_report(rd_kafka_t* handle, const rd_kafka_message_t* record, void* opaque);
  Status produce(std::string_view topic, std::span<const std::uint8_t> bytes, std::string_view key,
                 Held* held) noexcept;
  rd_kafka_topic_t* topic_handle(std::string_view topic);

  std::shared_ptr<Cluster> cluster_;
  KafkaSettings settings_;
  ProducerOptions options_;
  // Before client_: librdkafka reads held bytes until the client is gone.
  std::vector<std::unique_ptr<Held[]>> held_chunks_;
  Held* free_held_ = nullptr;
  Held* last_held_ = nullptr;  // the slot of the latest send(), while records hold it
  std::shared_ptr<Client> client_;
  std::map<std::string, rd_kafka_topic_t*, std::less<>> topics_;
  rd_kafka_topic_t* last_topic_ = nullptr;  // topics_'s entry for last_topic_name_
  std::string_view last_topic_name_;        // a key of topics_
  std::string own_key_;                     // ordering=producer: every key-less record's key
  std::uint64_t failed_since_flush_ = 0;
  detail::LogLimiter problems_;  // failed sends and deliveries
  // Held by every call: what is above is one thread's at a time. Not taken with producer
  // sharing off (benchmarks only).
  std::recursive_mutex mutex_;
  bool locking_ = true;

  using Lock = std::unique_lock<std::recursive_mutex>;
  Lock lock() noexcept { return locking_ ? Lock(mutex_) : Lock(); }
  /// Lets go of `held` for a moment, so another thread waiting for it gets it, then takes
  /// it again.
  Lock lock_after(Lock held) noexcept {
    held = Lock();
    std::this_thread::yield();
    return lock();
  }
};

}  // namespace mlops::orchestration::detail::kafka
