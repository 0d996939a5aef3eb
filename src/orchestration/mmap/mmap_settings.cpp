#include "orchestration/mmap/mmap_settings.h"

#include <charconv>

#include "mlops/log.h"

namespace mlops::orchestration::mmap {
namespace {

Result<std::uint64_t> read_number(std::string_view key, std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Error{ErrorCode::kInvalidArgument, "mmap option " + std::string(key) + "='" +
                                                  std::string(text) +
                                                  "' is not a non-negative whole number"};
  }
  return value;
}

Result<bool> read_flag(std::string_view key, std::string_view text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return Error{ErrorCode::kInvalidArgument,
               "mmap option " + std::string(key) + "='" + std::string(text) + "' is not true/false"};
}

}  // namespace

Result<QueueSettings> read_settings(const BackendOptions& options, QueueSettings base,
                                    std::string_view role) {
  for (const auto& [key, text] : options) {
    if (key == "populate" || key == "sync_commits") {
      auto flag = read_flag(key, text);
      if (!flag) return flag.error();
      (key == "populate" ? base.log.populate : base.sync_commits) = *flag;
      continue;
    }
    const bool known = key == "segment_bytes" || key == "max_message_bytes" ||
                       key == "pending_timeout_ms" || key == "retention_ms" ||
                       key == "retention_bytes";
    if (!known) {
      log(LogLevel::kWarning, "mmap " + std::string(role) + ": ignoring unknown option '" + key + "'");
      continue;
    }
    auto number = read_number(key, text);
    if (!number) return number.error();
    if (key == "segment_bytes") base.log.segment_bytes = *number;
    if (key == "max_message_bytes") base.max_message_bytes = *number;
    if (key == "pending_timeout_ms") base.log.pending_timeout = std::chrono::milliseconds(*number);
    if (key == "retention_ms") base.log.retention_age = std::chrono::milliseconds(*number);
    if (key == "retention_bytes") base.log.retention_bytes = *number;
  }
  const auto segment = base.log.segment_bytes;
  if (segment < kMinSegmentBytes || segment > kMaxSegmentBytes || segment % kRecordAlignment != 0) {
    return Error{ErrorCode::kInvalidArgument,
                 "mmap option segment_bytes=" + std::to_string(segment) +
                     " must be a multiple of 8 from 4096 to 2147483648"};
  }
  return base;
}

}  // namespace mlops::orchestration::mmap
