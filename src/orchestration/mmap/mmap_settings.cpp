#include "orchestration/mmap/mmap_settings.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "mlops/log.h"
#include "orchestration/mmap/group_member.h"

namespace mlops::orchestration::mmap {
namespace {

constexpr std::array<std::string_view, 9> kQueueKeys = {
    "segment_bytes", "max_message_bytes", "pending_timeout_ms", "populate",
    "retention_ms",  "retention_bytes",   "sync_commits",       "mode",
    "lease_ms"};

std::string_view role_name(SettingsRole role) {
  switch (role) {
    case SettingsRole::kQueue: return "queue";
    case SettingsRole::kProducer: return "producer";
    case SettingsRole::kConsumer: return "consumer";
  }
  return "queue";
}

bool role_reads(SettingsRole role, std::string_view key) {
  switch (role) {
    case SettingsRole::kQueue: return true;
    case SettingsRole::kProducer: return key == "max_message_bytes";
    case SettingsRole::kConsumer: return key == "sync_commits" || key == "lease_ms";
  }
  return false;
}

Error bad_value(std::string_view key, std::string_view text, const std::string& rule) {
  return Error{ErrorCode::kInvalidArgument,
               "mmap option " + std::string(key) + "='" + std::string(text) + "' " + rule};
}

Result<std::uint64_t> read_number(std::string_view key, std::string_view text, std::uint64_t min,
                                  std::uint64_t max, int base = 10) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return bad_value(key, text, "must be a whole number from " + std::to_string(min) + " to " +
                                    std::to_string(max));
  }
  return value;
}

Result<bool> read_flag(std::string_view key, std::string_view text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return bad_value(key, text, "is not true/false");
}

Result<FileModes> read_mode(std::string_view key, std::string_view text) {
  auto mode = read_number(key, text, 0, 07777, 8);
  if (!mode) return mode.error();
  // Owner read-write, no execute bits, nobody but owner and group may write.
  if ((*mode & 0600) != 0600 || (*mode & 0111) != 0 || (*mode & 07002) != 0) {
    return bad_value(key, text, "must be an octal file mode like 0600, 0640 or 0660 "
                                "(owner rw; group optional; others at most read)");
  }
  FileModes modes;
  modes.file = static_cast<mode_t>(*mode);
  modes.directory = static_cast<mode_t>(*mode | ((*mode & 0444) >> 2));  // x where r
  return modes;
}

}  // namespace

Result<QueueSettings> read_settings(const BackendOptions& options, QueueSettings base,
                                    SettingsRole role) {
  constexpr std::uint64_t kForever = std::uint64_t{1} << 53;
  for (const auto& [key, text] : options) {
    const bool known = std::find(kQueueKeys.begin(), kQueueKeys.end(), key) != kQueueKeys.end();
    if (!known || !role_reads(role, key)) {
      log(LogLevel::kWarning, "mmap " + std::string(role_name(role)) + ": ignoring " +
                                  (known ? "option '" + key + "', which the queue's URI sets"
                                         : "unknown option '" + key + "'"));
      continue;
    }
    if (key == "populate" || key == "sync_commits") {
      auto flag = read_flag(key, text);
      if (!flag) return flag.error();
      (key == "populate" ? base.log.populate : base.sync_commits) = *flag;
    } else if (key == "mode") {
      auto modes = read_mode(key, text);
      if (!modes) return modes.error();
      base.modes = *modes;
    } else if (key == "segment_bytes") {
      auto number = read_number(key, text, kMinSegmentBytes, kMaxSegmentBytes);
      if (!number) return number.error();
      if (*number % kRecordAlignment != 0) return bad_value(key, text, "must be a multiple of 8");
      base.log.segment_bytes = *number;
    } else if (key == "max_message_bytes") {
      auto number = read_number(key, text, 0, kMaxSegmentBytes);
      if (!number) return number.error();
      base.max_message_bytes = *number;
    } else if (key == "pending_timeout_ms") {
      auto number = read_number(key, text, 1, 3'600'000);
      if (!number) return number.error();
      base.log.pending_timeout = std::chrono::milliseconds(*number);
    } else if (key == "lease_ms") {
      auto number = read_number(key, text, 10, static_cast<std::uint64_t>(kMaxLease.count()));
      if (!number) return number.error();
      base.lease = std::chrono::milliseconds(*number);
    } else if (key == "retention_ms") {
      auto number = read_number(key, text, 0, kForever);
      if (!number) return number.error();
      base.log.retention_age = std::chrono::milliseconds(*number);
    } else if (key == "retention_bytes") {
      auto number = read_number(key, text, 0, kForever);
      if (!number) return number.error();
      base.log.retention_bytes = *number;
    }
  }
  return base;
}

}  // namespace mlops::orchestration::mmap
