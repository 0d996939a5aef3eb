#pragma once
// The mmap backend's settings, read from URI query and backend options.

#include <cstdint>
#include <string>

#include "mlops/orchestration/backend_options.h"
#include "mlops/result.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::mmap {

struct QueueSettings {
  LogSettings log;
  /// 0: whatever a segment can hold.
  std::uint64_t max_message_bytes = 0;
  bool sync_commits = false;
};

/// Reads `options` over `base`. Unknown keys are logged and ignored (code
/// written for another backend still runs); malformed values are an error.
Result<QueueSettings> read_settings(const BackendOptions& options, QueueSettings base,
                                    std::string_view role);

}  // namespace mlops::orchestration::mmap
