#include "orchestration/mmap/log_writer.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "orchestration/mmap/crash_points.h"
#include "orchestration/mmap/crc32c.h"
#include "orchestration/mmap/futex.h"
#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/segment_preparer.h"

namespace mlops::orchestration::mmap {
namespace {

std::atomic<std::uint32_t> g_pid{0};
constexpr std::size_t kMaxDirtySegments = 4;

void refresh_pid() noexcept { g_pid.store(static_cast<std::uint32_t>(::getpid())); }

}  // namespace

std::uint32_t current_pid() noexcept {
  // getpid() is a system call; a claim needs the pid on every append.
  static const bool registered = [] {
    refresh_pid();
    ::pthread_atfork(nullptr, nullptr, &refresh_pid);
    return true;
  }();
  (void)registered;
  return g_pid.load(std::memory_order_relaxed);
}

Result<Segment*> LogWriter::segment_for(std::uint64_t index) {
  if (current_ && current_->index == index) return current_.get();
  auto segment = log_->segment(index, /*create=*/true);
  if (!segment) return segment.error();
  current_ = std::move(*segment);
  current_base_ = index * log_->segment_bytes();
  // Fault this segment in (if nobody has) and make the next one ready, in the background.
  prepare_segment_ahead(log_, index);
  prepare_segment_ahead(log_, index + 1);
  return current_.get();
}

Result<std::uint64_t> LogWriter::append(std::span<const std::uint8_t> payload) {
  const std::uint64_t segment_bytes = log_->segment_bytes();
  if (payload.size() > max_payload(segment_bytes)) {
    return Error{ErrorCode::kTooLarge, "message of " + std::to_string(payload.size()) +
                                           " bytes exceeds the segment's limit of " +
                                           std::to_string(max_payload(segment_bytes))};
  }
  const auto need = static_cast<std::uint32_t>(record_bytes(payload.size()));
  const std::uint32_t pid = current_pid();
  auto& tail = log_->control().tail;

  for (;;) {
    std::uint64_t position = tail.load(std::memory_order_acquire);
    std::uint64_t index = 0;
    std::uint64_t offset = 0;
    if (current_ && position >= current_base_ + kFileHeaderBytes &&
        position - current_base_ < segment_bytes && position % kRecordAlignment == 0) {
      index = current_->index;  // The common case: still in the current segment.
      offset = position - current_base_;
    } else {
      position = normalize(position, segment_bytes);
      index = position / segment_bytes;
      offset = position % segment_bytes;
      if (offset < kFileHeaderBytes || offset % kRecordAlignment != 0) {
        // A damaged tail (it lives in a file): start afresh in the next segment.
        tail.compare_exchange_strong(position, first_position(index + 1, segment_bytes),
                                     std::memory_order_acq_rel);
        continue;
      }
      if (auto segment = segment_for(index); !segment) return segment.error();
    }
    RecordHeader* header = current_->header_at(offset);

    std::uint64_t word = header->word.load(std::memory_order_acquire);
    if (word != 0) {
      // Claimed already (its claimer may have died before moving the tail): help the
      // tail past it. A damaged word gives up the rest of its segment.
      const std::uint64_t next = word_fits(word, offset, segment_bytes)
                                     ? normalize(position + word_size(word), segment_bytes)
                                     : first_position(index + 1, segment_bytes);
      tail.compare_exchange_strong(position, next, std::memory_order_acq_rel);
      continue;
    }

    const std::uint64_t room = segment_bytes - offset;
    if (need > room) {
      // The record does not fit: pad out the segment and roll to the next.
      std::uint64_t empty = 0;
      const auto padding = make_word(static_cast<std::uint32_t>(room), pid, RecordState::kSkipped);
      if (header->word.compare_exchange_strong(empty, padding, std::memory_order_acq_rel)) {
        tail.compare_exchange_strong(position, first_position(index + 1, segment_bytes),
                                     std::memory_order_acq_rel);
        mark_dirty(offset, sizeof(std::uint64_t));
        apply_retention();
      }
      continue;
    }

    std::uint64_t empty = 0;
    const std::uint64_t claim = make_word(need, pid, RecordState::kPending);
    if (!header->word.compare_exchange_strong(empty, claim, std::memory_order_acq_rel)) continue;
    // The tail never rests on a segment's first byte (its file header): normalise.
    const std::uint64_t end = offset + need == segment_bytes
                                  ? first_position(index + 1, segment_bytes)
                                  : position + need;
    tail.compare_exchange_strong(position, end, std::memory_order_acq_rel);
    maybe_crash(CrashPoint::kAfterClaim);

    auto* body = reinterpret_cast<std::uint8_t*>(header) + kRecordHeaderBytes;
    const std::size_t half = payload.size() / 2;
    // An empty payload may have no data pointer at all, and memcpy from null is undefined.
    if (!payload.empty()) std::memcpy(body, payload.data(), half);
    maybe_crash(CrashPoint::kMidPayload);
    if (!payload.empty()) std::memcpy(body + half, payload.data() + half, payload.size() - half);
    header->payload_bytes = static_cast<std::uint32_t>(payload.size());
    header->crc32c = crc32c(payload.data(), payload.size());
    maybe_crash(CrashPoint::kBeforePublish);

    // seq_cst: one half of the Dekker pair with a reader going to sleep (wake_readers).
    std::uint64_t pending = claim;
    if (!header->word.compare_exchange_strong(pending,
                                              make_word(need, pid, RecordState::kPublished),
                                              std::memory_order_seq_cst,
                                              std::memory_order_relaxed)) {
      // A reader gave up on this slot (we stalled past pending_timeout): append again.
      continue;
    }
    mark_dirty(offset, need);
    wake_readers();
    return position;
  }
}

void LogWriter::wake_readers() const noexcept {
  // Dekker with a reader going to sleep: we publish (seq_cst) then load `waiters`
  // (seq_cst); it increments `waiters` (seq_cst) then looks at the record (seq_cst).
  // Either it sees our record, or we see it waiting. On x86 the load is a plain move.
  auto& notify = log_->notify();
  if (notify.waiters.load(std::memory_order_seq_cst) != 0) {
    notify.sequence.fetch_add(1, std::memory_order_release);
    futex_wake_all(notify.sequence);
  }
}

void LogWriter::mark_dirty(std::uint64_t offset, std::uint64_t length) {
  if (!dirty_.empty() && dirty_.back().segment == current_) {
    auto& range = dirty_.back();
    range.begin = std::min(range.begin, offset);
    range.end = std::max(range.end, offset + length);
    return;
  }
  // A producer that never flushes must not keep every old segment mapped: past a few,
  // the oldest range is written out now (once per segment, off the per-record path).
  if (dirty_.size() >= kMaxDirtySegments) {
    (void)dirty_.front().segment->file.sync(dirty_.front().begin,
                                            dirty_.front().end - dirty_.front().begin);
    dirty_.erase(dirty_.begin());
  }
  dirty_.push_back({current_, offset, offset + length});
}

void LogWriter::apply_retention() {
  // Rolling is rare (once per segment): the moment to let retention delete what every
  // group has consumed.
  if (const auto committed = lowest_committed(log_->directory())) {
    log_->apply_retention(*committed);
  }
}

Result<void> LogWriter::sync() {
  for (const auto& range : dirty_) {
    if (auto synced = range.segment->file.sync(range.begin, range.end - range.begin); !synced) {
      return synced;
    }
  }
  dirty_.clear();
  return log_->sync_directory();
}

}  // namespace mlops::orchestration::mmap
