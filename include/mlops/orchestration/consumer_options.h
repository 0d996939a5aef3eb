#pragma once
/// \file ConsumerOptions: a Consumer's group, starting position, batch size and commits.

#include <cstddef>
#include <cstdint>
#include <string>

#include "mlops/export.h"
#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/backend_options.h"

namespace mlops::orchestration {

/// Where a consumer group that does not exist yet starts reading.
enum class OffsetReset : std::uint8_t {
  kEarliest,  ///< At the oldest message the topic still holds.
  kLatest,    ///< At the next message sent.
};

/// How a Consumer behaves. Aggregate: `ConsumerOptions{.group = "train"}`.
struct MLOPS_EXPORT ConsumerOptions {
  /// The consumer group: every group sees every message, and the members of one group
  /// share them (competing consumers). Empty: a group of this consumer alone that ends
  /// with it (like kafka-python's group_id=None). On Kafka a `group_id` or `group.id`
  /// backend option (or URI query) names the group as well; one naming another group than
  /// this is refused (kInvalidArgument).
  std::string group{};
  /// Where a group that does not exist yet starts. Earliest by default (Kafka's default
  /// is latest) so a pipeline stage that starts after its producer misses nothing.
  OffsetReset offset_reset = OffsetReset::kEarliest;
  /// Most messages one receive() returns when its `max` is 0.
  std::size_t max_batch = 256;
  /// When true each receive() first commits what the previous one handed out (Kafka's
  /// auto-commit); close() never commits, so the last batch comes again to the group.
  bool auto_commit = true;
  /// Most retries a message gets: Consumer::retry() sends a message already retried this
  /// often to the dead-letter topic instead. 0 turns retrying off (every retry() is a
  /// dead_letter(), and no retry topic is read).
  std::int32_t max_retries = 3;
  /// When true a payload that fails verification goes to `<topic>.dlq` as its raw bytes
  /// (before it counts as processed) instead of only being skipped and counted.
  bool dead_letter_corrupt = true;
  /// Limits every received payload is verified against.
  messaging::VerifyLimits verify_limits{};
  /// Backend settings passed through (e.g. librdkafka's "session.timeout.ms").
  BackendOptions backend{};
};

/// Counts of what a Consumer saw.
struct MLOPS_EXPORT ConsumerStats {
  /// Messages handed to the caller by receive().
  std::uint64_t received = 0;
  /// Messages the filter rejected (they count as processed at the next commit).
  std::uint64_t filtered_out = 0;
  /// Payloads that failed verification (foreign or corrupt): skipped, logged, processed.
  /// Includes skipped_legacy.
  std::uint64_t skipped_corrupt = 0;
  /// Successful commits.
  std::uint64_t commits = 0;
  /// Payloads in the original library's JSON (messaging/legacy_json.h) read as messages:
  /// a consumer reads them beside FlatBuffers messages on any backend (counted in
  /// `received` too when handed out).
  std::uint64_t legacy = 0;
  /// Payloads that looked like the original's JSON (a JSON object) but were not a valid
  /// message of it (malformed, wrong types, too large or too deep): skipped and logged
  /// with what was wrong.
  std::uint64_t skipped_legacy = 0;
  /// Copies scheduled by retry() (not counting those that went to the dead-letter topic).
  std::uint64_t retried = 0;
  /// Messages sent to a dead-letter topic: dead_letter(), retries over the limit, corrupt
  /// payloads (dead_letter_corrupt).
  std::uint64_t dead_lettered = 0;
  /// Messages Consumer::seek with at_time or after passed over as coming before its start
  /// (the group moved past them).
  std::uint64_t replay_skipped = 0;
};

}  // namespace mlops::orchestration
