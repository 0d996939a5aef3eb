#pragma once
// Appends records to a topic log: claim a slot by CAS on its header word at the tail,
// fill it in, publish by CAS from pending to published (release). Any number of writers in
// any number of processes may append to one topic at once.

#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "mlops/result.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::detail::mmap {

/// One writer's handle on a topic. Not thread-safe: one per thread (they share the TopicLog).
class LogWriter {
 public:
  explicit LogWriter(std::shared_ptr<TopicLog> log) noexcept : log_(std::move(log)) {}

  /// Appends `payload` as one record. When this returns the record is published: any
  /// process that reads the topic sees it, and a crash of any process cannot lose it.
  /// @return its position; kTooLarge if it can never fit a segment; kUnavailable if a
  ///         segment cannot be created or mapped (a full disk says so), the writer cannot
  ///         register, or no slot could be claimed within a bounded number of tries.
  Result<std::uint64_t> append(std::span<const std::uint8_t> payload);

  /// Puts every record appended since the last sync on disk and waits (msync), together
  /// with everything below it in the log (so a power loss leaves no hole before them), the
  /// directory entries of their segments and the control block.
  /// @return kUnavailable with the system's reason if anything could not be written.
  Result<void> sync();

  /// The largest payload append() takes.
  [[nodiscard]] std::uint64_t max_payload_bytes() const noexcept {
    return max_payload(log_->segment_bytes());
  }
  [[nodiscard]] const std::shared_ptr<TopicLog>& log() const noexcept { return log_; }

 private:
  Result<Segment*> segment_for(std::uint64_t index);
  Result<std::uint32_t> writer_id();
  void prepare_ahead(std::uint64_t end);
  void apply_retention();
  void note_written(std::uint64_t position, std::uint64_t end) noexcept {
    unsynced_from_ = std::min(unsynced_from_, position);
    unsynced_end_ = std::max(unsynced_end_, end);
  }

  std::shared_ptr<TopicLog> log_;
  std::shared_ptr<Segment> current_;
  std::uint64_t current_base_ = 0;  // Position of current_'s first byte: no division per append.
  std::uint64_t prepare_mark_ = 0;  // Past this position, ask for the next chunk to be made ready.
  std::uint64_t allocated_mark_ = 0;  // Offset in current_ below which its blocks are allocated.
  std::uint32_t writer_id_ = 0;
  std::uint32_t writer_pid_ = 0;  // The process writer_id_ was registered by.
  // What this writer wrote since its last sync: [unsynced_from_, unsynced_end_).
  std::uint64_t unsynced_from_ = UINT64_MAX;
  std::uint64_t unsynced_end_ = 0;
  std::uint64_t appended_since_sync_ = 0;  // Bytes: past kHugePageWriterBytes, huge pages.
};

}  // namespace mlops::orchestration::detail::mmap
