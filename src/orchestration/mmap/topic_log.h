#pragma once
// One topic of an mmap queue: an append-only log of segment files shared by every process
// that opens the same directory. LogWriter appends, LogReader reads; both are cheap views
// over a TopicLog, which owns the control block and the segment mappings.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "mlops/result.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/layout.h"
#include "orchestration/mmap/process_registry.h"

namespace mlops::orchestration::detail::mmap {

/// One mapped segment file. Messages that view it hold a shared_ptr, so it stays mapped
/// while any of them lives (even after retention unlinks the file).
struct Segment {
  MappedFile file;
  std::uint64_t index = 0;
  /// Whether this mapping already asks for huge pages (set by TopicLog::prepare alone, on
  /// the preparer's thread).
  bool huge_pages = false;

  [[nodiscard]] RecordHeader* header_at(std::uint64_t offset) const noexcept {
    return reinterpret_cast<RecordHeader*>(file.data() + offset);
  }
  /// Where the file ends: the segment size, or less for a file cut short (truncated), whose
  /// records past this point are lost.
  [[nodiscard]] std::uint64_t file_bytes() const noexcept { return file.file_size(); }
};

/// Settings of one topic log.
struct LogSettings {
  /// Bytes per segment file (fixed when the topic is created; later opens use the stored one).
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;
  /// How long a claimed record may stay unpublished, with its writer alive, before
  /// readers skip it.
  std::chrono::milliseconds pending_timeout{2000};
  /// Fault segments in (writable) in the background a few MiB ahead of the writer, instead
  /// of one page fault at a time on the writer's path.
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

  /// Opens (creating if needed) topic `topic` in the queue whose root is `root`. The control
  /// block is checked against the segments and repaired where they disagree (a damaged tail
  /// or first segment, a hole at the tail after a power loss).
  /// @return the log; kCorrupt if `control` is not a control file; kUnavailable if the
  ///         files cannot be made or opened (permissions, a full disk, a link).
  static Result<std::shared_ptr<TopicLog>> open(const Directory& root, const std::string& topic,
                                                const LogSettings& settings, const FileModes& modes,
                                                std::shared_ptr<ProcessRegistry> registry);

  /// Opens existing topic `topic` to look at it alone (listing, lag): nothing in the queue
  /// is created, repaired or written, the control block is taken as it is, and segments
  /// are only ever mapped read-only.
  /// @return the log; kNotFound if there is no such topic; kCorrupt if its control block is
  ///         not one, or its header is damaged and no segment says the size (a writer's
  ///         open repairs it); kUnavailable if it cannot be opened.
  static Result<std::shared_ptr<TopicLog>> open_read_only(
      const Directory& root, const std::string& topic, const LogSettings& settings,
      const FileModes& modes, std::shared_ptr<ProcessRegistry> registry);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& directory() const noexcept { return directory_.path(); }
  [[nodiscard]] const Directory& groups() const noexcept { return groups_; }
  [[nodiscard]] const FileModes& modes() const noexcept { return modes_; }
  [[nodiscard]] std::uint64_t segment_bytes() const noexcept { return segment_bytes_; }
  [[nodiscard]] const LogSettings& settings() const noexcept { return settings_; }
  [[nodiscard]] ControlBlock& control() const noexcept {
    return *reinterpret_cast<ControlBlock*>(control_.data());
  }
  [[nodiscard]] ProcessRegistry& registry() const noexcept { return *registry_; }

  /// The mapping of existing segment `index`, read-only or writable. A read-only mapping of
  /// a file cut short holds zeros past the file's end (see Segment::file_bytes); a
  /// writable one is refused, so that nothing is ever written where the file is missing.
  /// @return the segment; kNotFound if there is no such file; kCorrupt if it is damaged
  ///         (wrong size or header, a link); kUnavailable if it cannot be opened.
  Result<std::shared_ptr<Segment>> segment(std::uint64_t index, MappedFile::Access access);

  /// The writable mapping of segment `index`, creating the file first if needed.
  /// @return as segment(); also kNotFound for an index retention has already passed (it is
  ///         never created again below the first segment).
  Result<std::shared_ptr<Segment>> writable_segment(std::uint64_t index);

  /// Creates segment `index` if needed and faults [begin, end) of it in writable; keeps it
  /// mapped for the writer that will need it. With `huge_pages`, the segment's blocks from
  /// `begin` on are allocated and that part of the mapping asks for transparent huge pages,
  /// once per mapping (kHugePageWriterBytes says when). Run by the segment preparer's
  /// thread, off the writer's path, holding the gate's mutex.
  void prepare(std::uint64_t index, std::uint64_t begin, std::uint64_t end, bool huge_pages);
  /// Has this process's writable mapping of segment `index`, if it has one and it asks
  /// for huge pages, ask for small ones again from `from` on: pages already made stay as
  /// they are. Run by the segment preparer's thread, like prepare().
  void use_small_pages(std::uint64_t index, std::uint64_t from);
  [[nodiscard]] const std::shared_ptr<PrepareGate>& prepare_gate() const noexcept { return gate_; }

  /// Makes the directory entries of segments up to `index` durable (fsync of the topic
  /// directory, once per segment and process): part of a flush, so power loss cannot forget
  /// a segment that holds flushed records, whoever created it.
  [[nodiscard]] Result<void> sync_directory(std::uint64_t index);
  /// Writes the control block to disk (tail, first segment, durable watermark).
  [[nodiscard]] Result<void> sync_control() const;

  /// The position of the oldest record still held, and of the next one to be written.
  [[nodiscard]] std::uint64_t earliest() const noexcept;
  [[nodiscard]] std::uint64_t latest() const noexcept;

  /// Wakes the readers asleep on this topic, if any can be (after a publish).
  void wake_readers() const noexcept;

  /// Writes a claim-word change through a writable view of `segment` when the mapping is
  /// read-only (a consumer's): the compare-and-swap of an abandoned claim to skipped.
  /// @return whether the word went from `expected` to `desired`.
  bool swap_word(const Segment& segment, std::uint64_t offset, std::uint64_t expected,
                 std::uint64_t desired) const;

  /// Deletes segments wholly behind `committed` (the lowest committed position of every
  /// consumer group) that the retention settings let go, and any file retention left
  /// below the first segment. Returns how many were deleted.
  std::size_t apply_retention(std::uint64_t committed);

  /// The indexes of the segment files present, sorted (stale temporary files are removed).
  [[nodiscard]] std::vector<std::uint64_t> segment_indexes() const;

 private:
  TopicLog() = default;
  static Result<std::shared_ptr<TopicLog>> make(const Directory& root, const std::string& topic,
                                                const LogSettings& settings, const FileModes& modes,
                                                std::shared_ptr<ProcessRegistry> registry);
  Result<void> check_control(std::uint64_t requested_segment_bytes);
  Result<void> repair_positions();
  Result<std::shared_ptr<Segment>> map_segment(std::uint64_t index, MappedFile::Access access);

  std::string name_;
  Directory directory_;
  Directory groups_;
  FileModes modes_;
  LogSettings settings_;
  std::uint64_t segment_bytes_ = 0;
  bool read_only_ = false;  // open_read_only(): looks, never writes
  MappedFile control_;
  std::shared_ptr<ProcessRegistry> registry_;
  std::atomic<std::uint64_t> directory_synced_{0};  // index + 1 of the last segment fsync'd
  std::mutex mutex_;
  std::map<std::uint64_t, std::weak_ptr<Segment>> segments_;  // key: index * 2 + writable
  std::shared_ptr<Segment> prepared_;        // The latest segment made ready ahead of the writers.
  std::set<std::uint64_t> prepared_chunks_;  // Recent chunks already faulted in.
  std::shared_ptr<PrepareGate> gate_;
};

/// The longest a reader sleeps before announcing its sleep again (ControlBlock::sleep_until);
/// writers ignore an announcement further ahead than twice this.
inline constexpr std::chrono::milliseconds kSleepSlice{100};
inline constexpr std::chrono::nanoseconds kMaxSleepAnnounced = 2 * kSleepSlice;

/// How far ahead of a writer the preparer faults pages in, in chunks of at most this.
inline constexpr std::uint64_t kPrepareChunkBytes = std::uint64_t{4} << 20;
/// The smallest chunk: a writer that has written little gets little made ready ahead.
inline constexpr std::uint64_t kMinPrepareChunkBytes = std::uint64_t{256} << 10;
/// A writer that has appended this much since its last sync gets the chunks it has made
/// ready in huge pages (MADV_HUGEPAGE): on a virtual machine the first store to each 4 KiB
/// page of a fresh mapping costs microseconds, to each 2 MiB page about the same, so a busy
/// writer runs 2-3 times faster. Not sooner, and not for a writer that syncs more often: a
/// sync writes a huge page whole (2 MiB where one record of a 4 KiB page changed).
inline constexpr std::uint64_t kHugePageWriterBytes = kPrepareChunkBytes;
/// Blocks a new segment has allocated; the rest grows as writers reach it (allocation_end).
inline constexpr std::uint64_t kInitialAllocationBytes = std::uint64_t{1} << 20;

/// Where a segment's allocated blocks should end once a writer needs them up to `offset`:
/// twice that (so a filling segment doubles its blocks a few times, never per record), at
/// least kInitialAllocationBytes, at most the segment.
constexpr std::uint64_t allocation_end(std::uint64_t offset, std::uint64_t segment_bytes) {
  std::uint64_t end = kInitialAllocationBytes;
  while (end < 2 * offset && end < segment_bytes) end *= 2;
  return end < segment_bytes ? end : segment_bytes;
}

}  // namespace mlops::orchestration::detail::mmap
