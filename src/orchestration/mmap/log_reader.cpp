#include "orchestration/mmap/log_reader.h"

#include <signal.h>

#include <cerrno>
#include <string>

#include "mlops/log.h"
#include "orchestration/mmap/crc32c.h"
#include "orchestration/mmap/log_writer.h"

namespace mlops::orchestration::mmap {
namespace {
// Damage is reported through the log hook this many times per reader, then only counted.
constexpr std::uint64_t kMaxReports = 10;
}  // namespace

LogReader::LogReader(std::shared_ptr<TopicLog> log, std::uint64_t position) noexcept
    : log_(std::move(log)), position_(normalize(position, log_->segment_bytes())) {}

void LogReader::seek(std::uint64_t position) noexcept {
  position_ = normalize(position, log_->segment_bytes());
}

void LogReader::report(const std::string& problem) {
  ++damaged_;
  if (reports_++ < kMaxReports) {
    mlops::log(LogLevel::kWarning, "mmap queue, topic '" + log_->name() + "': " + problem + " (skipped)");
  }
}

bool LogReader::writer_gone(std::uint64_t word) {
  const auto pid = word_pid(word);
  if (pid != current_pid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
    return true;
  }
  const auto now = std::chrono::steady_clock::now();
  if (pending_position_ != position_) {
    pending_position_ = position_;
    pending_since_ = now;
  }
  return now - pending_since_ >= log_->settings().pending_timeout;
}

bool LogReader::next(LogRecord& record) {
  for (;;) {
    switch (step(record)) {
      case Step::kRecord: return true;
      case Step::kEnd: return false;
      case Step::kAdvanced: break;
    }
  }
}

LogReader::Step LogReader::step(LogRecord& record) {
  const std::uint64_t segment_bytes = log_->segment_bytes();
  const std::uint64_t index = position_ / segment_bytes;
  const std::uint64_t offset = position_ % segment_bytes;
  const std::uint64_t next_segment = first_position(index + 1, segment_bytes);
  if (offset < kFileHeaderBytes || offset % kRecordAlignment != 0) {
    report("position " + std::to_string(position_) + " is not a record boundary");
    position_ = next_segment;
    return Step::kAdvanced;
  }

  if (!current_ || current_->index != index) {
    auto segment = log_->segment(index, /*create=*/false);
    if (!segment) {
      if (segment.error().code == ErrorCode::kNotFound) {
        const auto first = log_->control().first_segment.load(std::memory_order_acquire);
        if (index >= first) return Step::kEnd;  // Not written yet.
        ++lost_to_retention_;
        position_ = first_position(first, segment_bytes);
        return Step::kAdvanced;
      }
      // Truncated or a garbage header: the whole segment is unreadable. Step over it only
      // once a later segment exists, so a reader never runs ahead of the writers.
      auto later = log_->segment(index + 1, false);
      if (!later && later.error().code == ErrorCode::kNotFound) return Step::kEnd;
      report(segment.error().message);
      position_ = next_segment;
      return Step::kAdvanced;
    }
    current_ = std::move(*segment);
  }

  RecordHeader* header = current_->header_at(offset);
  // seq_cst, not just acquire: the reader's half of the Dekker pair in LogWriter::wake_readers.
  const std::uint64_t word = header->word.load(std::memory_order_seq_cst);
  if (word == 0) return Step::kEnd;
  if (!word_fits(word, offset, segment_bytes)) {
    report("damaged record header at position " + std::to_string(position_) +
           "; the rest of segment " + std::to_string(index) + " is unreadable");
    position_ = next_segment;
    return Step::kAdvanced;
  }
  const std::uint64_t after = normalize(position_ + word_size(word), segment_bytes);

  switch (word_state(word)) {
    case RecordState::kSkipped:
      position_ = after;
      return Step::kAdvanced;

    case RecordState::kPending: {
      if (!writer_gone(word)) return Step::kEnd;
      // Its writer died between claim and publish (or stalled past the timeout): the slot
      // becomes padding for every reader. If the writer publishes after all, the CAS
      // fails for it and it appends the record again elsewhere, so nothing is lost.
      std::uint64_t expected = word;
      const auto skipped = make_word(word_size(word), word_pid(word), RecordState::kSkipped);
      if (header->word.compare_exchange_strong(expected, skipped, std::memory_order_acq_rel)) {
        ++abandoned_;
      }
      return Step::kAdvanced;  // Re-read the slot: skipped now, or published after all.
    }

    case RecordState::kPublished: {
      const auto* body = reinterpret_cast<const std::uint8_t*>(header) + kRecordHeaderBytes;
      if (!payload_fits(header->payload_bytes, word_size(word))) {
        report("record at position " + std::to_string(position_) + " has a bad length");
      } else if (crc32c(body, header->payload_bytes) != header->crc32c) {
        report("record at position " + std::to_string(position_) + " fails its CRC32C");
      } else {
        record.payload = {body, header->payload_bytes};
        record.owner = current_;
        record.position = position_;
        record.next = after;
        position_ = after;
        return Step::kRecord;
      }
      position_ = after;
      return Step::kAdvanced;
    }
  }
  return Step::kEnd;
}

}  // namespace mlops::orchestration::mmap
