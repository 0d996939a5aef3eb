#pragma once
// One topic of an mmap queue: an append-only log of segment files shared by every process
// that opens the same directory. LogWriter appends, LogReader reads; both are cheap views
// over a TopicLog, which owns the control block and the segment mappings.

#include <chrono>
#include <cstdint>
#include <atomic>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/layout.h"

namespace mlops::orchestration::mmap {

/// One mapped segment file. Messages that view it hold a shared_ptr, so it stays mapped
/// while any of them lives (even after retention unlinks the file).
struct Segment {
  MappedFile file;
  std::uint64_t index = 0;

  [[nodiscard]] RecordHeader* header_at(std::uint64_t offset) const noexcept {
    return reinterpret_cast<RecordHeader*>(file.data() + offset);
  }
};

/// Settings of one topic log.
struct LogSettings {
  /// Bytes per segment file (fixed when the topic is created; later opens use the stored one).
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;
  /// How long a claimed record may stay unpublished, with its writer alive, before
  /// readers skip it.
  std::chrono::milliseconds pending_timeout{2000};
  /// Fault segments in (writable) in the background ahead of the writer, instead of one
  /// page fault at a time on the writer's path.
  bool populate = true;
  /// Segments wholly behind every consumer group are deleted once older than this (0: never
  /// by age) ...
  std::chrono::milliseconds retention_age{std::chrono::hours(24 * 7)};
  /// ... or while the topic holds more than this many bytes (0: no limit).
  std::uint64_t retention_bytes = 0;
};

class TopicLog;

/// What the segment preparer holds on to instead of a log, so that it never keeps a log
/// alive: a log's destructor waits here for a preparation under way, and no file appears
/// in the queue directory after the last user let go of the log.
struct PrepareGate {
  std::mutex mutex;
  TopicLog* log = nullptr;  // nullptr once the log is gone; under mutex
};

/// The shared state of one topic in this process. Thread-safe.
class TopicLog {
 public:
  TopicLog(const TopicLog&) = delete;
  TopicLog& operator=(const TopicLog&) = delete;
  ~TopicLog();

  /// Opens (creating if needed) topic `topic` under `queue_dir`.
  static Result<std::shared_ptr<TopicLog>> open(const std::string& queue_dir,
                                                const std::string& topic, const LogSettings& settings,
                                                std::shared_ptr<NotifyBlock> notify);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& directory() const noexcept { return directory_; }
  [[nodiscard]] std::uint64_t segment_bytes() const noexcept { return segment_bytes_; }
  [[nodiscard]] const LogSettings& settings() const noexcept { return settings_; }
  [[nodiscard]] ControlBlock& control() const noexcept {
    return *reinterpret_cast<ControlBlock*>(control_.data());
  }
  [[nodiscard]] NotifyBlock& notify() const noexcept { return *notify_; }

  /// The mapping of segment `index`; creates the file first when `create` is set.
  /// kNotFound if it does not exist (and create is not set); kCorrupt if the file is damaged.
  Result<std::shared_ptr<Segment>> segment(std::uint64_t index, bool create);

  /// Creates segment `index` if needed and faults it in writable; keeps it mapped for the
  /// writer that will need it. Run by the segment preparer's thread, off the writer's path,
  /// holding the gate's mutex.
  void prepare(std::uint64_t index);
  [[nodiscard]] const std::shared_ptr<PrepareGate>& prepare_gate() const noexcept { return gate_; }

  /// Makes the directory entries of segments created since the last call durable (fsync
  /// of the topic directory): part of a flush, so power loss cannot forget a segment.
  Result<void> sync_directory();

  /// The position of the oldest record still held, and of the next one to be written.
  [[nodiscard]] std::uint64_t earliest() const noexcept;
  [[nodiscard]] std::uint64_t latest() const noexcept;

  /// Deletes segments wholly behind `committed` (the lowest committed position of every
  /// consumer group) that the retention settings let go. Returns how many were deleted.
  std::size_t apply_retention(std::uint64_t committed);

 private:
  TopicLog() = default;

  std::string name_;
  std::string directory_;
  LogSettings settings_;
  std::uint64_t segment_bytes_ = 0;
  MappedFile control_;
  std::shared_ptr<NotifyBlock> notify_;  // Shares the queue's mapping of DIR/.notify.
  std::atomic<bool> directory_dirty_{false};
  std::mutex mutex_;
  std::map<std::uint64_t, std::weak_ptr<Segment>> segments_;
  std::shared_ptr<Segment> prepared_;  // The latest segment made ready ahead of the writers.
  std::set<std::uint64_t> prepared_indexes_;  // Recent segments already faulted in.
  std::shared_ptr<PrepareGate> gate_;
};

}  // namespace mlops::orchestration::mmap
