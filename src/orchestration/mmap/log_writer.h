#pragma once
// Appends records to a topic log: claim a slot by CAS on its header word at the tail,
// fill it in, publish by CAS from pending to published (release). Any number of writers in
// any number of processes may append to one topic at once.

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "mlops/result.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::mmap {

/// One writer's handle on a topic. Not thread-safe: one per thread (they share the TopicLog).
class LogWriter {
 public:
  explicit LogWriter(std::shared_ptr<TopicLog> log) noexcept : log_(std::move(log)) {}

  /// Appends `payload` as one record. When this returns the record is published: any
  /// process that reads the topic sees it, and a crash of any process cannot lose it.
  /// @return its position; kTooLarge if it can never fit a segment; kUnavailable or
  ///         kCorrupt if a segment cannot be created or mapped.
  Result<std::uint64_t> append(std::span<const std::uint8_t> payload);

  /// Writes every record appended since the last sync to disk and waits (msync).
  Result<void> sync();

  /// The largest payload append() takes.
  [[nodiscard]] std::uint64_t max_payload_bytes() const noexcept {
    return max_payload(log_->segment_bytes());
  }
  [[nodiscard]] const std::shared_ptr<TopicLog>& log() const noexcept { return log_; }

 private:
  Result<Segment*> segment_for(std::uint64_t index);
  void mark_dirty(std::uint64_t offset, std::uint64_t length);
  void wake_readers() const noexcept;
  void apply_retention();

  struct DirtyRange {
    std::shared_ptr<Segment> segment;
    std::uint64_t begin;
    std::uint64_t end;
  };

  std::shared_ptr<TopicLog> log_;
  std::shared_ptr<Segment> current_;
  std::uint64_t current_base_ = 0;  // Position of current_'s first byte: no division per append.
  std::vector<DirtyRange> dirty_;
};

/// This process's id, cached (and refreshed in a forked child).
std::uint32_t current_pid() noexcept;

}  // namespace mlops::orchestration::mmap
