#pragma once
/// \file ProducerOptions: how a Producer behaves (back-pressure, timeouts, delivery reports).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "mlops/export.h"
#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/backend_options.h"
#include "mlops/orchestration/status.h"

namespace mlops::orchestration {

/// What send() does when a topic is full.
enum class BackPressure : std::uint8_t {
  kBlock,   ///< Wait for room up to ProducerOptions::send_timeout, then return kTimeout.
  kReturn,  ///< Return Status::kBackPressured at once (Aeron's offer()).
};

/// What a producer puts on the wire.
enum class WireFormat : std::uint8_t {
  kFlatBuffers,  ///< The message's own FlatBuffers bytes, unchanged (the default).
  kLegacyJson,   ///< The original library's JSON (messaging/legacy_json.h), for stages still
                 ///< on the original during a move; every consumer of this library reads both.
};

/// The final outcome of one message sent to one topic.
struct MLOPS_EXPORT DeliveryReport {
  /// The topic it was sent to (valid during the callback).
  std::string_view topic;
  /// The message (a shared reference to its bytes).
  messaging::MLOpsMessage message;
  /// kOk: the backend holds it as its contract says. kDeliveryUnknown: it was sent but its
  /// outcome is not known (e.g. in flight when close() gave up on it, or its acknowledgement
  /// timed out): it may be in the topic, so resending may duplicate it. Any other value: it
  /// was not delivered, and why (kClosed: given up unsent at close(); kTimeout: unsent
  /// within the backend's message timeout; kTooLarge; kError).
  Status status;
};

/// Called once per message and topic that send() accepted, with its final outcome.
/// inproc and mmap call it inside send(); kafka from send(), flush() or close(), one
/// report at a time. With a Producer shared between threads it runs on whichever of them
/// sends (inproc, mmap: possibly at once on several). It must not throw (it runs inside
/// noexcept calls).
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

/// How a Producer behaves. Aggregate: `ProducerOptions{.back_pressure = BackPressure::kReturn}`.
struct MLOPS_EXPORT ProducerOptions {
  /// What send() does when a topic is full.
  BackPressure back_pressure = BackPressure::kBlock;
  /// How long send() waits for room under BackPressure::kBlock.
  std::chrono::milliseconds send_timeout{1000};
  /// How long send(msg, true) and close() wait for the backend to hold what was sent.
  std::chrono::milliseconds flush_timeout{5000};
  /// What goes on the wire. Also set by the option `wire=flatbuffers|legacy-json`, in the
  /// orchestration URI's query or in `backend` (which wins over the URI, which wins over
  /// this field). Legacy JSON is sent like send_raw(): a record without our content-type
  /// header or key and without a delivery report; a message the JSON cannot carry (bytes in
  /// an additional argument) is refused with kError and logged.
  WireFormat wire = WireFormat::kFlatBuffers;
  /// Optional delivery report per message and topic.
  DeliveryCallback on_delivery{};
  /// Backend settings passed through (e.g. librdkafka's "acks").
  BackendOptions backend{};
};

/// Counts of what a Producer did, per message and topic.
struct MLOPS_EXPORT ProducerStats {
  /// Messages the backend accepted.
  std::uint64_t sent = 0;
  /// Messages refused for lack of room (kBackPressured or kTimeout).
  std::uint64_t back_pressured = 0;
  /// Messages refused for any other reason.
  std::uint64_t failed = 0;
};

}  // namespace mlops::orchestration
