#include "orchestration/mmap/log_writer.h"

#include <atomic>
#include <cstring>

#include "mlops/log.h"
#include "orchestration/mmap/crash_points.h"
#include "orchestration/mmap/crc32c.h"
#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/segment_preparer.h"

namespace mlops::orchestration::detail::mmap {
namespace {

// Every try either claims a slot or moves the tail past one; a topic that offers no slot in
// this many tries is damaged beyond what a writer can step over, or absurdly contended.
constexpr int kMaxTries = 1 << 20;
// A writer whose claim readers skipped (it stalled past pending_timeout) appends again, at
// most this many times: a writer that keeps stalling that long gets an error instead.
constexpr int kMaxReappends = 8;

}  // namespace

Result<std::uint32_t> LogWriter::writer_id() {
  const std::uint32_t pid = current_pid();
  if (writer_id_ != 0 && writer_pid_ == pid) return writer_id_;
  auto id = log_->registry().id();  // Registers this process (again, in a forked child).
  if (!id) return id.error();
  writer_id_ = *id;
  writer_pid_ = pid;
  return writer_id_;
}

Result<Segment*> LogWriter::segment_for(std::uint64_t index) {
  if (current_ && current_->index == index) return current_.get();
  auto segment = log_->writable_segment(index);
  if (!segment) return segment.error();
  release_in_background(std::exchange(current_, std::move(*segment)));
  current_base_ = index * log_->segment_bytes();
  prepare_mark_ = current_base_;  // The next append asks for this segment's first chunks.
  allocated_mark_ = 0;
  return current_.get();
}

void LogWriter::prepare_ahead(std::uint64_t end) {
  // The chunk `end` lies in and the two after it (in this segment or the next) are faulted
  // in by the preparer; once past this chunk, the writer asks again.
  const std::uint64_t bytes = log_->segment_bytes();
  // Chunks grow with what the topic holds: a topic that got one small message has a few
  // hundred KiB made ready, not megabytes; one past its first segment is busy, and gets
  // full chunks from the start of each segment.
  std::uint64_t chunk = kMinPrepareChunkBytes;
  while (chunk < kPrepareChunkBytes && chunk < end - current_base_ && end < bytes) chunk *= 2;
  if (end >= bytes) chunk = kPrepareChunkBytes;
  chunk = std::min(chunk, bytes);
  const std::uint64_t chunks_per_segment = (bytes + chunk - 1) / chunk;
  const std::uint64_t index = current_base_ / bytes;
  const std::uint64_t here = (end - current_base_ - 1) / chunk;
  const bool huge_pages = appended_since_sync_ >= kHugePageWriterBytes;
  for (std::uint64_t ahead = 0; ahead < 3; ++ahead) {
    const std::uint64_t number = here + ahead;
    const std::uint64_t begin = number % chunks_per_segment * chunk;
    prepare_segment_ahead(log_, index + number / chunks_per_segment, begin,
                          std::min(begin + chunk, bytes), huge_pages);
  }
  // Past half of its segment a writer has the next one made (created, its directory entry
  // synced, its first chunk faulted in) long before it gets there: making a segment syncs
  // a new file, tens of milliseconds on a busy disk, which the writer must not wait for.
  if (end - current_base_ >= bytes / 2 && bytes > chunk) {
    prepare_segment_ahead(log_, index + 1, 0, chunk, huge_pages);
  }
  prepare_mark_ = current_base_ + std::min((here + 1) * chunk, bytes);
}

Result<std::uint64_t> LogWriter::append(std::span<const std::uint8_t> payload) {
  const std::uint64_t segment_bytes = log_->segment_bytes();
  if (payload.size() > max_payload(segment_bytes)) {
    return Error{ErrorCode::kTooLarge, "message of " + std::to_string(payload.size()) +
                                           " bytes exceeds the segment's limit of " +
                                           std::to_string(max_payload(segment_bytes))};
  }
  const auto need = static_cast<std::uint32_t>(record_bytes(payload.size()));
  const auto writer = writer_id();
  if (!writer) return writer.error();
  auto& tail = log_->control().tail;
  // Moves the tail from what this try read to `next`; it is only ever helped forward.
  auto move_tail = [&tail](std::uint64_t read, std::uint64_t next) {
    tail.compare_exchange_strong(read, next, std::memory_order_acq_rel);
  };
  int reappends = 0;

  for (int tries = 0; tries < kMaxTries; ++tries) {
    const std::uint64_t raw = tail.load(std::memory_order_acquire);
    std::uint64_t position = raw;
    std::uint64_t index = 0;
    std::uint64_t offset = 0;
    if (current_ && raw >= current_base_ + kFileHeaderBytes &&
        raw - current_base_ < segment_bytes && raw % kRecordAlignment == 0) {
      index = current_->index;  // The common case: still in the current segment.
      offset = raw - current_base_;
    } else {
      position = normalize(raw, segment_bytes);
      index = position / segment_bytes;
      offset = position % segment_bytes;
      if (position >= kMaxPosition) {
        return Error{ErrorCode::kUnavailable, "topic '" + log_->name() + "' has no positions left"};
      }
      if (!is_record_boundary(position, segment_bytes)) {
        move_tail(raw, first_position(index + 1, segment_bytes));  // A damaged tail.
        continue;
      }
      if (auto segment = segment_for(index); !segment) {
        if (segment.error().code == ErrorCode::kCorrupt) {
          // A damaged segment at the tail: appends go on in the next one, and readers step
          // over this one once the tail has left it.
          mlops::log(LogLevel::kWarning,
                     "mmap queue: " + segment.error().message + "; appending in the next segment");
          move_tail(raw, first_position(index + 1, segment_bytes));
          continue;
        }
        if (segment.error().code == ErrorCode::kNotFound) {
          move_tail(raw, log_->earliest());  // The tail fell below the first segment.
          continue;
        }
        return segment.error();
      }
    }
    RecordHeader* header = current_->header_at(offset);

    std::uint64_t word = header->word.load(std::memory_order_acquire);
    if (word != 0) {
      // Claimed already (its claimer may have died before moving the tail): help the
      // tail past it. A damaged word gives up the rest of its segment.
      move_tail(raw, word_fits(word, offset, segment_bytes)
                         ? normalize(position + word_size(word), segment_bytes)
                         : first_position(index + 1, segment_bytes));
      continue;
    }
    // Every slot the tail has passed holds a non-zero word. A zero one behind a tail that
    // moved on is a hole (damage): never this writer's to fill.
    if (tail.load(std::memory_order_acquire) != raw) continue;

    const std::uint64_t room = segment_bytes - offset;
    // The blocks of what this writer is about to write, before it writes them, and of the
    // word after it: on tmpfs even a read of a page without blocks takes one (a SIGBUS on a
    // full disk), and the next append, or a reader at the tail, reads that word first.
    if (const std::uint64_t reach = std::min(
            offset + std::min<std::uint64_t>(need, room) + kRecordAlignment, segment_bytes);
        reach > allocated_mark_) {
      // Never just this record's pages when the doubled range fails: on a nearly full ext4
      // with 1 KiB blocks, writes over blocks allocated a page at a time died of SIGBUS
      // (unwritten extents split too small to convert without a block, we think).
      const std::uint64_t end = allocation_end(offset + need, segment_bytes);
      if (auto allocated = current_->file.allocate(allocated_mark_, end - allocated_mark_);
          !allocated) {
        return allocated.error();
      }
      allocated_mark_ = end;
    }
    if (need > room) {
      // The record does not fit: pad out the segment and roll to the next.
      std::uint64_t empty = 0;
      const auto padding =
          make_word(static_cast<std::uint32_t>(room), *writer, RecordState::kSkipped);
      if (header->word.compare_exchange_strong(empty, padding, std::memory_order_acq_rel)) {
        move_tail(raw, first_position(index + 1, segment_bytes));
        note_written(position, position + room);
        apply_retention();
      }
      continue;
    }

    std::uint64_t empty = 0;
    const std::uint64_t claim = make_word(need, *writer, RecordState::kPending);
    if (!header->word.compare_exchange_strong(empty, claim, std::memory_order_acq_rel)) continue;
    // The tail never rests on a segment's first byte (its file header): normalise.
    move_tail(raw, offset + need == segment_bytes ? first_position(index + 1, segment_bytes)
                                                  : position + need);
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
    maybe_stall();

    // seq_cst: one half of the Dekker pair with a reader going to sleep (wake_readers).
    std::uint64_t pending = claim;
    if (!header->word.compare_exchange_strong(
            pending, make_word(need, *writer, RecordState::kPublished), std::memory_order_seq_cst,
            std::memory_order_relaxed)) {
      // A reader gave up on this slot (we stalled past pending_timeout): append again.
      note_written(position, position + need);
      if (++reappends > kMaxReappends) {
        return Error{ErrorCode::kUnavailable,
                     "topic '" + log_->name() + "': readers skipped this writer's record " +
                         std::to_string(reappends) + " times (it stalled past pending_timeout_ms)"};
      }
      continue;
    }
    note_written(position, position + need);
    appended_since_sync_ += need;
    if (position + need > prepare_mark_) prepare_ahead(position + need);
    log_->wake_readers();
    return position;
  }
  return Error{ErrorCode::kUnavailable, "topic '" + log_->name() +
                                            "': no slot could be claimed in " +
                                            std::to_string(kMaxTries) + " tries"};
}

void LogWriter::apply_retention() {
  // Rolling is rare (once per segment): the moment to let retention delete what every
  // group has consumed.
  if (const auto committed = lowest_committed(log_->groups())) {
    log_->apply_retention(*committed);
  }
}

Result<void> LogWriter::sync() {
  if (unsynced_end_ == 0) return {};  // Nothing written since the last sync.
  if (appended_since_sync_ >= kHugePageWriterBytes && current_) {
    // A writer that syncs gets small pages again past what is already made ready: a sync
    // writes a whole huge page for each record in it.
    use_small_pages_ahead(log_, current_->index, prepare_mark_ - current_base_);
    use_small_pages_ahead(log_, current_->index + 1, 0);
  }
  const std::uint64_t bytes = log_->segment_bytes();
  auto& synced = log_->control().synced;
  // From the durable watermark, not just this writer's records: every claim below them is
  // then on disk too, so a power loss leaves no hole in front of a flushed record.
  const std::uint64_t from =
      std::max(std::min(synced.load(std::memory_order_acquire), unsynced_from_), log_->earliest());
  const std::uint64_t end = unsynced_end_;
  for (std::uint64_t index = from / bytes; index * bytes < end; ++index) {
    std::shared_ptr<Segment> segment = current_;
    if (!segment || segment->index != index) {
      auto found = log_->segment(index, MappedFile::Access::kReadWrite);
      if (!found && found.error().code == ErrorCode::kNotFound) continue;  // Retention took it.
      // A damaged segment (cut short, say) below this writer's records was stepped past:
      // nothing is written there again, and readers skip what it lost.
      if (!found && found.error().code == ErrorCode::kCorrupt && index < unsynced_from_ / bytes)
        continue;
      if (!found) return found.error();
      segment = std::move(*found);
    }
    const std::uint64_t base = index * bytes;
    const std::uint64_t begin = std::max(from, base) - base;
    const std::uint64_t stop = std::min(end, base + bytes) - base;
    if (auto written = segment->file.sync(begin, stop - begin); !written) return written;
  }
  std::uint64_t watermark = synced.load(std::memory_order_acquire);
  while (watermark < end &&
         !synced.compare_exchange_weak(watermark, end, std::memory_order_acq_rel)) {
  }
  if (auto entries = log_->sync_directory((end - 1) / bytes); !entries) return entries;
  if (auto control = log_->sync_control(); !control) return control;
  unsynced_from_ = UINT64_MAX;
  unsynced_end_ = 0;
  appended_since_sync_ = 0;
  return {};
}

}  // namespace mlops::orchestration::detail::mmap
