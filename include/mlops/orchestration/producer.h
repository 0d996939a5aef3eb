#pragma once
/// \file Producer: sends MLOpsMessages to topics.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/export.h"
#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/orchestration.h"
#include "mlops/orchestration/producer_options.h"
#include "mlops/orchestration/status.h"
#include "mlops/orchestration/topic_list.h"
#include "mlops/result.h"

namespace mlops::orchestration {

/// Sends messages to topics. send() is asynchronous: it returns a Status at once (or, under
/// BackPressure::kBlock, once there is room). The message's own topics win over the
/// producer's; a message with several topics goes once to each distinct name (a name
/// listed twice is sent to once).
///
///   auto producer = Producer::create(orch, "etl-done").value();
///   if (producer.send(msg) != Status::kOk) { ... }
///
/// What "held" means per backend (what send(msg, true) and flush() wait for):
///   none     nothing is ever held: every send is dropped (the warning says so).
///   inproc   held once send() returns kOk (in memory, shared by reference with every
///            consumer; nothing survives the process).
///   mmap     held once send() returns kOk in the mapped log, surviving the crash of any
///            process; flush() (or send(msg, true)) also syncs it to disk, surviving power loss.
///   kafka    held once the brokers acknowledged the record (acks=all with idempotence by
///            default); until then it is in librdkafka's queue.
///   redis    held once Redis replied to its XADD (and, with wait_replicas, WAIT saw that
///            many replicas); how long it survives is the server's persistence setting.
///
/// Order (README, "Ordering"): inproc, mmap and redis keep one order per topic, the order
/// sends were published in (redis: reached the server), for every producer and every group.
/// Kafka keeps order per partition only: messages of one key (MessageBuilder::with_key) go
/// to one partition in send order; a key-less message takes this producer's own key under
/// the option `ordering=producer` (the default: its messages stay in order, in one
/// partition) or none under `ordering=none` (spread over the partitions, in no order). Messages of
/// different keys or different producers have no order between them on Kafka; on every backend,
/// neither have messages sent by several threads at once through one Producer. Thread-safety: on
/// the none, inproc, kafka and redis backends one Producer may be shared by any number of threads:
/// send(), send_raw(), flush() and close() may run at once (after close(), calls return kClosed);
/// ProducerOptions::on_delivery then runs on whichever thread sends (kafka: one report at a time).
/// mmap producers are one thread at a time, as each owns a log writer: hand one from thread to
/// thread freely, but a call made while another thread is inside one is refused (kError, logged);
/// give each thread its own (they share the mapped log). On every backend stats() may be read from
/// any thread, and the Producer must outlive every call on it.
class MLOPS_EXPORT Producer {
 public:
  /// A producer on `orchestration` whose messages without topics go to `topics`.
  /// @return the producer, or kInvalidArgument naming an invalid topic, or the backend's error.
  static Result<Producer> create(const Orchestration& orchestration, TopicList topics = {},
                                 ProducerOptions options = {});

  /// Takes over `other`, which is left closed.
  Producer(Producer&& other) noexcept;
  /// Closes this one, then takes over `other`, which is left closed.
  Producer& operator=(Producer&& other) noexcept;
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  /// Closes the producer (see close()).
  ~Producer();

  /// Sends `message` to its own topics or, if it has none, to the producer's. A message
  /// that does not own its bytes (MessageBuilder::build_view()) is copied if the backend
  /// keeps it. With `flush`, also waits as flush() does, up to ProducerOptions::flush_timeout.
  /// @return kOk (with `flush`: held as the backend promises); kInvalidTopic (nothing
  ///         sent); kNoTopic (nothing sent); kClosed (not sent); kBackPressured (kReturn
  ///         policy) or kTimeout (kBlock policy) when a topic stayed full: not sent, safe to
  ///         send again; kTooLarge (not sent); kError (not sent; with `flush`, also a
  ///         message the backend refused once it had it, e.g. redis's WRONGTYPE for a key
  ///         that holds another type: certainly not held); with `flush` only,
  ///         kDeliveryUnknown: sent, but the flush did not confirm it in time (or failed), so
  ///         it may still arrive: do not resend blindly, its delivery report tells. With
  ///         several topics: the first failure, after trying every topic.
  [[nodiscard]] Status send(const messaging::MLOpsMessage& message, bool flush = false) noexcept;

  /// Sends `message` to `topic` alone, whatever topics it names: for callers that handle
  /// each topic themselves (the Python binding waits for room in short steps per topic,
  /// so that a retry never sends a topic's copy twice).
  /// @return as send() for one topic; kInvalidTopic for an invalid `topic`.
  [[nodiscard]] Status send_to(std::string_view topic,
                               const messaging::MLOpsMessage& message) noexcept;

  /// Sends bytes that may not be a message at all, unverified: for bridges from other
  /// systems and for tests of what consumers do with foreign payloads.
  /// @return as send(); kInvalidTopic for an invalid `topic`.
  [[nodiscard]] Status send_raw(std::string_view topic,
                                std::span<const std::uint8_t> bytes) noexcept;

  /// Waits until the backend holds everything sent so far, up to `timeout`.
  /// @return kOk; kTimeout (some messages are not confirmed yet: they may still arrive, and
  ///         their delivery reports tell); kClosed; kError (some message since the last flush
  ///         failed, or the backend could not flush; the delivery reports say which).
  [[nodiscard]] Status flush(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) noexcept;

  /// Flushes (up to ProducerOptions::flush_timeout) and closes; later calls return kClosed.
  /// What is still unconfirmed then is given up: a message never sent is reported kClosed,
  /// one already sent (in flight) kDeliveryUnknown. Idempotent.
  /// @return the flush's outcome: kOk, kTimeout, kError; kClosed if already closed.
  Status close() noexcept;

  /// The producer's default topics, each name once, in the order first given.
  [[nodiscard]] const std::vector<std::string>& topics() const noexcept;
  /// True once close() ran.
  [[nodiscard]] bool is_closed() const noexcept;
  /// Counts so far; safe to call from another thread.
  [[nodiscard]] ProducerStats stats() const noexcept;

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlops::orchestration
