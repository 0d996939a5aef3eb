#pragma once
// Reads a topic log in order from a position: published records come out as views into a
// read-only mapping; padding, dead writers' claims, holes and damage are stepped over and
// counted.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>

#include "orchestration/log_limiter.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::detail::mmap {

/// One published record, viewed in place. `owner` keeps its segment mapped.
struct LogRecord {
  std::span<const std::uint8_t> payload;
  std::shared_ptr<const void> owner;
  /// Where the record starts, and where the one after it does.
  std::uint64_t position = 0;
  std::uint64_t next = 0;
};

/// One reader's place in a topic. Not thread-safe: one per consumer.
class LogReader {
 public:
  LogReader(std::shared_ptr<TopicLog> log, std::uint64_t position) noexcept;

  /// The next published record at or after position(), if there is one now. Moves the
  /// position past it. Never blocks, and returns after a bounded number of steps: a record
  /// still being written ends the read (a dead writer's, or one pending past the timeout,
  /// is skipped instead).
  bool next(LogRecord& record);

  /// Where the next read starts.
  [[nodiscard]] std::uint64_t position() const noexcept { return position_; }
  /// Moves the read position (to a committed cursor, say).
  void seek(std::uint64_t position) noexcept;
  /// Records and segments skipped as damaged (bad CRC, bad header, truncated or missing
  /// file, a hole below the tail), and records lost to retention before this reader got
  /// to them.
  [[nodiscard]] std::uint64_t damaged() const noexcept { return damaged_; }
  [[nodiscard]] std::uint64_t lost_to_retention() const noexcept { return lost_to_retention_; }
  /// Claims of dead or stalled writers stepped over.
  [[nodiscard]] std::uint64_t abandoned() const noexcept { return abandoned_; }
  [[nodiscard]] const std::shared_ptr<TopicLog>& log() const noexcept { return log_; }
  /// Whether the last read stopped early: at a record still being written (its writer may
  /// die, which wakes nobody), or at its step bound. The caller should look again soon
  /// rather than sleep long.
  [[nodiscard]] bool stopped_early() const noexcept {
    return stopped_at_bound_ || pending_position_ == position_;
  }

 private:
  enum class Step { kRecord, kAdvanced, kEnd };
  enum class Writer { kAlive, kDead, kStalled };
  Step step(LogRecord& record);
  Step missing_segment(const Error& error, std::uint64_t index, std::uint64_t tail);
  Writer pending_writer(std::uint64_t word);
  void map_ahead(std::uint64_t offset);
  void report(const std::string& problem);

  std::shared_ptr<TopicLog> log_;
  std::shared_ptr<Segment> current_;
  std::uint64_t current_base_ = 0;  // Position of current_'s first byte.
  std::uint64_t position_;
  // [mapped_from_, mapped_mark_): the pages of current_ last mapped in (map_ahead); past the
  // mark, or sent below the start by a seek, the reader maps the next ones first.
  std::uint64_t mapped_from_ = 0;
  std::uint64_t mapped_mark_ = 0;
  // The pending record this reader is waiting on, since when, and when its writer's
  // liveness was last asked.
  std::uint64_t pending_position_ = UINT64_MAX;
  std::chrono::steady_clock::time_point pending_since_{};
  std::chrono::steady_clock::time_point last_liveness_check_{};
  std::uint64_t damaged_ = 0;
  std::uint64_t lost_to_retention_ = 0;
  std::uint64_t abandoned_ = 0;
  // Damage reports: a burst, then one line per interval (made on the first report).
  std::unique_ptr<orchestration::detail::LogLimiter> reports_;
  bool stopped_at_bound_ = false;
};

}  // namespace mlops::orchestration::detail::mmap
