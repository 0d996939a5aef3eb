#include "orchestration/mmap/mmap_settings.h"

#include "orchestration/mmap/group_member.h"
#include "orchestration/option_reader.h"

namespace mlops::orchestration::detail::mmap {
namespace {

using detail::OptionReader;

std::string_view role_name(SettingsRole role) {
  switch (role) {
    case SettingsRole::kQueue: return "queue";
    case SettingsRole::kProducer: return "producer";
    case SettingsRole::kConsumer: return "consumer";
  }
  return "queue";
}

// Owner read-write, no execute bits, nobody but owner and group may write.
Result<FileModes> read_mode(OptionReader& reader, FileModes fallback) {
  auto mode = reader.number("mode", 0, 07777, fallback.file, 8);
  if (!mode) return mode.error();
  if ((*mode & 0600) != 0600 || (*mode & 0111) != 0 || (*mode & 07002) != 0) {
    return reader.invalid("mode",
                          "must be an octal file mode like 0600, 0640 or 0660 "
                          "(owner rw; group optional; others at most read)");
  }
  FileModes modes;
  modes.file = static_cast<mode_t>(*mode);
  modes.directory = static_cast<mode_t>(*mode | ((*mode & 0444) >> 2));  // x where r
  return modes;
}

// The options only the queue's URI sets.
Result<void> read_queue_options(OptionReader& reader, QueueSettings& base) {
  constexpr std::uint64_t kForever = std::uint64_t{1} << 53;
  auto populate = reader.flag("populate", base.log.populate);
  if (!populate) return populate.error();
  base.log.populate = *populate;
  auto modes = read_mode(reader, base.modes);
  if (!modes) return modes.error();
  base.modes = *modes;
  auto segment =
      reader.number("segment_bytes", kMinSegmentBytes, kMaxSegmentBytes, base.log.segment_bytes);
  if (!segment) return segment.error();
  if (*segment % kRecordAlignment != 0)
    return reader.invalid("segment_bytes", "must be a multiple of 8");
  base.log.segment_bytes = *segment;
  auto pending = reader.millis("pending_timeout_ms", 1, 3'600'000, base.log.pending_timeout);
  if (!pending) return pending.error();
  base.log.pending_timeout = *pending;
  auto age = reader.millis("retention_ms", 0, kForever, base.log.retention_age);
  if (!age) return age.error();
  base.log.retention_age = *age;
  auto bytes = reader.number("retention_bytes", 0, kForever, base.log.retention_bytes);
  if (!bytes) return bytes.error();
  base.log.retention_bytes = *bytes;
  return {};
}

}  // namespace

Result<QueueSettings> read_settings(const BackendOptions& options, QueueSettings base,
                                    SettingsRole role) {
  OptionReader reader("mmap " + std::string(role_name(role)), options);
  if (role == SettingsRole::kQueue) {
    if (auto done = read_queue_options(reader, base); !done) return done.error();
  }
  if (role != SettingsRole::kConsumer) {
    auto max = reader.number("max_message_bytes", 0, kMaxSegmentBytes, base.max_message_bytes);
    if (!max) return max.error();
    base.max_message_bytes = *max;
  }
  if (role != SettingsRole::kProducer) {
    auto sync = reader.flag("sync_commits", base.sync_commits);
    if (!sync) return sync.error();
    base.sync_commits = *sync;
    auto lease =
        reader.millis("lease_ms", 10, static_cast<std::uint64_t>(kMaxLease.count()), base.lease);
    if (!lease) return lease.error();
    base.lease = *lease;
  }
  reader.warn_unread({"segment_bytes", "max_message_bytes", "pending_timeout_ms", "populate",
                      "retention_ms", "retention_bytes", "sync_commits", "mode", "lease_ms"},
                     "which the queue's URI sets");
  return base;
}

}  // namespace mlops::orchestration::detail::mmap
