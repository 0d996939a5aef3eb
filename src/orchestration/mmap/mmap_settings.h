#pragma once
// The mmap backend's settings, read from URI query and backend options.

#include <chrono>
#include <cstdint>
#include <string>

#include "mlops/orchestration/backend_options.h"
#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::detail::mmap {

struct QueueSettings {
  LogSettings log;
  /// 0: whatever a segment can hold.
  std::uint64_t max_message_bytes = 0;
  bool sync_commits = false;
  /// How long a group member may hold claimed messages without receiving again before
  /// the others take them (`lease_ms`, 10 ms to 1 h).
  std::chrono::milliseconds lease{30'000};
  /// Permissions of what the queue creates (`mode`, default 0600: owner only).
  FileModes modes;
};

/// Which options a role reads: the queue (URI) reads every one; a producer only
/// max_message_bytes; a consumer only sync_commits and lease_ms. The rest are the queue's and are
/// fixed by the URI.
enum class SettingsRole { kQueue, kProducer, kConsumer };

/// Reads `options` over `base`. Unknown keys, and queue options given to a producer or a
/// consumer, are logged and ignored (code written for another backend still runs);
/// malformed or out-of-range values are a kInvalidArgument error that says which.
Result<QueueSettings> read_settings(const BackendOptions& options, QueueSettings base,
                                    SettingsRole role);

}  // namespace mlops::orchestration::detail::mmap
