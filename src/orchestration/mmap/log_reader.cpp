#include "orchestration/mmap/log_reader.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "mlops/log.h"
#include "orchestration/mmap/crc32c.h"

namespace mlops::orchestration::detail::mmap {
namespace {
// One next() call takes at most this many steps (padding, skipped claims, damage).
constexpr int kMaxSteps = 1 << 16;
// A live writer publishes within microseconds of its claim: whether its process lives is
// asked only of a claim older than this, and then at most once per interval.
constexpr auto kLivenessGrace = std::chrono::microseconds(50);
constexpr auto kLivenessInterval = std::chrono::milliseconds(1);
// How far ahead of itself a reader maps its segment's pages in at once.
constexpr std::uint64_t kMapAheadBytes = std::uint64_t{4} << 20;
}  // namespace

LogReader::LogReader(std::shared_ptr<TopicLog> log, std::uint64_t position) noexcept
    : log_(std::move(log)), position_(normalize(position, log_->segment_bytes())) {}

void LogReader::seek(std::uint64_t position) noexcept {
  position_ = normalize(position, log_->segment_bytes());
  // A group member seeks at every claim, mostly forward within what is mapped already: only
  // a seek back below it maps again (one past the mark does anyway).
  if (position_ < mapped_from_) mapped_mark_ = 0;
}

void LogReader::report(const std::string& problem) {
  ++damaged_;
  if (!reports_) {
    reports_ = std::make_unique<orchestration::detail::LogLimiter>(
        LogLevel::kWarning, "mmap queue, topic '" + log_->name() + "'");
  }
  reports_->log(problem + " (skipped)");
}

void LogReader::map_ahead(std::uint64_t offset) {
  // One madvise maps the pages of the next few MiB up to the tail (in the page cache already
  // for a log being followed) instead of one read fault per page.
  // Only a hint: on a kernel without MADV_POPULATE_READ, or past a file cut short, it fails
  // and the reads fault as before.
  const std::uint64_t page = page_bytes();
  const std::uint64_t from = offset / page * page;
  const std::uint64_t tail = log_->latest();
  // Nothing past the tail: pages no writer has reached would be made in the cache for nothing.
  const std::uint64_t written = tail > current_base_ ? tail - current_base_ : 0;
  const std::uint64_t to = std::min({offset + kMapAheadBytes, current_->file_bytes(), written});
  if (to > from + page) {
    (void)::madvise(current_->file.data() + from, to - from, MADV_POPULATE_READ);
  }
  // At the tail, the next look is a page further on: never a call per record.
  mapped_from_ = current_base_ + from;
  mapped_mark_ = current_base_ + std::max(to, from + page);
}

LogReader::Writer LogReader::pending_writer(std::uint64_t word) {
  const auto now = std::chrono::steady_clock::now();
  if (pending_position_ != position_) {
    pending_position_ = position_;
    pending_since_ = now;
    last_liveness_check_ = {};
  }
  if (now - pending_since_ >= log_->settings().pending_timeout) return Writer::kStalled;
  if (now - pending_since_ < kLivenessGrace || now - last_liveness_check_ < kLivenessInterval) {
    return Writer::kAlive;
  }
  last_liveness_check_ = now;
  return log_->registry().alive(word_writer(word)) ? Writer::kAlive : Writer::kDead;
}

bool LogReader::next(LogRecord& record) {
  stopped_at_bound_ = false;
  for (int steps = 0; steps < kMaxSteps; ++steps) {
    switch (step(record)) {
      case Step::kRecord: return true;
      case Step::kEnd: return false;
      case Step::kAdvanced: break;
    }
  }
  stopped_at_bound_ = true;
  return false;
}

LogReader::Step LogReader::missing_segment(const Error& error, std::uint64_t index,
                                           std::uint64_t tail) {
  const std::uint64_t segment_bytes = log_->segment_bytes();
  const std::uint64_t tail_index = tail / segment_bytes;
  if (error.code == ErrorCode::kNotFound &&
      index < log_->control().first_segment.load(std::memory_order_acquire)) {
    ++lost_to_retention_;
    position_ = log_->earliest();
    return Step::kAdvanced;
  }
  // At or past the tail's segment a file may simply not be made yet, and writers step past
  // a damaged one first: only below the tail is a missing or damaged segment known lost.
  if (index >= tail_index) return Step::kEnd;
  if (error.code == ErrorCode::kUnavailable) {
    report(error.message);  // Could be passing (no descriptors left): look again later.
    return Step::kEnd;
  }
  report(error.code == ErrorCode::kNotFound
             ? "segment " + std::to_string(index) + " is missing below the tail"
             : error.message);
  position_ = first_position(index + 1, segment_bytes);
  return Step::kAdvanced;
}

LogReader::Step LogReader::step(LogRecord& record) {
  const std::uint64_t segment_bytes = log_->segment_bytes();
  std::uint64_t index = 0;
  std::uint64_t offset = 0;
  if (current_ && position_ >= current_base_ + kFileHeaderBytes &&
      position_ - current_base_ < segment_bytes && position_ % kRecordAlignment == 0 &&
      position_ < kMaxPosition) {
    // The common case, a record boundary in the mapped segment: no 64-bit division (three
    // of them per record were a good part of a reader's time).
    index = current_->index;
    offset = position_ - current_base_;
  } else {
    index = position_ / segment_bytes;
    offset = position_ % segment_bytes;
    if (!is_record_boundary(position_, segment_bytes)) {
      if (position_ >= kMaxPosition) return Step::kEnd;
      report("position " + std::to_string(position_) + " is not a record boundary");
      position_ = first_position(index + 1, segment_bytes);
      return Step::kAdvanced;
    }
    if (!current_ || current_->index != index) {
      // The tail first: a segment it had passed already existed before this look for it
      // (a writer creates a segment before the tail enters it).
      const std::uint64_t tail = log_->latest();
      auto segment = log_->segment(index, MappedFile::Access::kReadOnly);
      if (!segment) return missing_segment(segment.error(), index, tail);
      current_ = std::move(*segment);
      current_base_ = index * segment_bytes;
      mapped_mark_ = 0;
      // Cut short (truncated): the records wholly before its end are still read. A cut at
      // or past the tail took no record with it.
      if (current_->file_bytes() < segment_bytes && current_base_ + current_->file_bytes() < tail) {
        report("segment file '" + current_->file.path() + "' is cut short: bytes [" +
               std::to_string(current_->file_bytes()) + ", " + std::to_string(segment_bytes) +
               ") (positions [" + std::to_string(current_base_ + current_->file_bytes()) + ", " +
               std::to_string(current_base_ + segment_bytes) + ")) are missing and lost");
      }
    }
  }
  if (position_ >= mapped_mark_) map_ahead(offset);
  const std::uint64_t next_segment = current_base_ + segment_bytes + kFileHeaderBytes;

  const RecordHeader* header = current_->header_at(offset);
  // seq_cst, not just acquire: the reader's half of the Dekker pair in TopicLog::wake_readers.
  std::uint64_t word = header->word.load(std::memory_order_seq_cst);
  if (word == 0 || !word_fits(word, offset, segment_bytes)) {
    const std::uint64_t tail = log_->latest();
    if (position_ >= tail) return Step::kEnd;  // The end (writers step past a damaged word).
    // The tail moves past a slot only after its word is set: look once more.
    word = header->word.load(std::memory_order_seq_cst);
    if (word == 0 || !word_fits(word, offset, segment_bytes)) {
      // A zero word the tail has passed is a hole (pages a power loss took, or damage); a
      // word that fits nothing is damage. Where the next record starts cannot be known
      // (a payload's bytes may look like headers): the rest of the segment is given up, or,
      // in the tail's own segment, what lies before the tail as it is now.
      const std::uint64_t resume = tail / segment_bytes == index ? tail : next_segment;
      if (offset >= current_->file_bytes()) {
        position_ = resume;  // Past the end of a file cut short: reported when it was mapped.
        return Step::kAdvanced;
      }
      report(std::string(word == 0 ? "a hole" : "a damaged record header") + " at position " +
             std::to_string(position_) + " below the tail; resuming at " + std::to_string(resume));
      position_ = resume;
      return Step::kAdvanced;
    }
  }
  // Where the next record starts: the next segment's first one past this segment's end.
  const std::uint64_t after =
      offset + word_size(word) == segment_bytes ? next_segment : position_ + word_size(word);

  switch (word_state(word)) {
    case RecordState::kSkipped:
      if (word_writer(word) == kRepairWriter) {
        report("records after a hole at position " + std::to_string(position_) +
               " were given up when the topic was repaired");
      }
      position_ = after;
      return Step::kAdvanced;

    case RecordState::kPending: {
      const Writer writer = pending_writer(word);
      if (writer == Writer::kAlive) return Step::kEnd;
      // Its writer died between claim and publish (or stalled past the timeout): the slot
      // becomes padding for every reader. If the writer publishes after all, its CAS
      // fails and it appends the record again elsewhere, so nothing is lost.
      const auto skipped = make_word(word_size(word), word_writer(word), RecordState::kSkipped);
      if (log_->swap_word(*current_, offset, word, skipped)) {
        ++abandoned_;
      } else if (header->word.load(std::memory_order_acquire) == word) {
        // This process may not write the queue. A dead writer never publishes, so its slot
        // can be stepped over here alone; a stalled one must be waited for.
        if (writer == Writer::kStalled) return Step::kEnd;
        ++abandoned_;
        position_ = after;
      }
      return Step::kAdvanced;  // Re-read the slot: skipped now, or published after all.
    }

    case RecordState::kPublished: {
      const auto* body = reinterpret_cast<const std::uint8_t*>(header) + kRecordHeaderBytes;
      // Each field read once: what was checked is what is handed out.
      const std::uint32_t payload_bytes = __atomic_load_n(&header->payload_bytes, __ATOMIC_RELAXED);
      const std::uint32_t crc = __atomic_load_n(&header->crc32c, __ATOMIC_RELAXED);
      if (!payload_fits(payload_bytes, word_size(word))) {
        report("record at position " + std::to_string(position_) + " has a bad length");
      } else if (offset + word_size(word) > current_->file_bytes()) {
        report("record at position " + std::to_string(position_) +
               " is cut off where its segment file ends");
      } else if (crc32c(body, payload_bytes) != crc) {
        report("record at position " + std::to_string(position_) + " fails its CRC32C");
      } else {
        record.payload = {body, payload_bytes};
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

}  // namespace mlops::orchestration::detail::mmap
