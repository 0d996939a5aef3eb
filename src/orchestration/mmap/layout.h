#pragma once
// The on-disk layout of an mmap queue, in one place: the writer, the reader and recovery
// all read it through these offsets and checks, and nothing else knows them.
//
//   DIR/.procs/<id>                   one file per process using the queue, write-locked
//                                     (fcntl) while it lives: the writer id in claims
//   DIR/<topic>/control               ControlBlock: segment size, tail, first segment,
//                                     durable watermark, the topic's wake-up word
//   DIR/<topic>/<index:020>.seg       segment files of segment_bytes each
//   DIR/<topic>/groups/<group>        a consumer group: its committed position (the
//                                     CursorRecord at offset 0) and, at kGroupTableOffset,
//                                     the GroupTable of ranges its members have claimed
//
// A position is a 64-bit byte offset in the topic's log: segment index * segment_bytes +
// offset in that segment. Records start after the segment's FileHeader, are 8-byte
// aligned, and never cross a segment: the rest of a segment that a record does not fit
// in is claimed as padding.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mlops::orchestration::detail::mmap {

inline constexpr std::uint32_t kLayoutVersion = 2;
inline constexpr std::size_t kRecordAlignment = 8;
inline constexpr std::size_t kFileHeaderBytes = 64;
inline constexpr std::size_t kRecordHeaderBytes = 16;
inline constexpr std::uint64_t kMinSegmentBytes = 4096;
inline constexpr std::uint64_t kMaxSegmentBytes = std::uint64_t{1} << 31;  // Sizes fit 32 bits.
/// Positions stay below this, so no sum of a position and a size can overflow (a topic
/// would need 2^62 bytes written to reach it).
inline constexpr std::uint64_t kMaxPosition = std::uint64_t{1} << 62;
/// Writer ids are 30 bits (the claim word's field); 0 is never a writer.
inline constexpr std::uint32_t kMaxWriterId = (std::uint32_t{1} << 30) - 1;
/// The writer id of padding that repair wrote over a hole: readers report what it hides.
inline constexpr std::uint32_t kRepairWriter = kMaxWriterId;

inline constexpr char kSegmentMagic[8] = {'M', 'L', 'O', 'P', 'S', 'E', 'G', '1'};
inline constexpr char kControlMagic[8] = {'M', 'L', 'O', 'P', 'C', 'T', 'L', '1'};

/// The first kFileHeaderBytes of every segment file.
struct FileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_bytes;
  std::uint64_t segment_bytes;
  std::uint64_t segment_index;
  std::uint8_t reserved[32];
};
static_assert(sizeof(FileHeader) == kFileHeaderBytes);

/// The control file of a topic, mapped shared by every process using it. Everything in it
/// is checked on open (TopicLog::open) and repaired from the segments when it disagrees.
struct ControlBlock {
  char magic[8];
  std::uint32_t version;
  /// CRC32C of magic, version and segment_bytes: a flipped bit in them is seen, not trusted.
  std::uint32_t header_crc;
  std::uint64_t segment_bytes;
  std::uint8_t pad0[40];
  /// Where the next record goes; may lag (writers help it along), never leads, and every
  /// record boundary below it holds a non-zero header word.
  alignas(64) std::atomic<std::uint64_t> tail;
  /// The lowest segment index retention has not deleted.
  alignas(64) std::atomic<std::uint64_t> first_segment;
  /// Every byte of the log below this position is on disk (a flush msyncs from here up), so
  /// after a power loss no flushed record has a hole before it.
  alignas(64) std::atomic<std::uint64_t> synced;
  /// The topic's wake-up: a futex word bumped after a publish when a reader may sleep.
  alignas(64) std::atomic<std::uint32_t> wake;
  /// Readers asleep or about to be. A reader killed asleep leaves its count behind, so a
  /// writer also checks `sleep_until` (CLOCK_MONOTONIC ns): no reader sleeps past it.
  std::atomic<std::uint32_t> waiters;
  std::atomic<std::int64_t> sleep_until;
};
static_assert(sizeof(ControlBlock) <= 4096);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

/// What a record slot holds. Stored in the top two bits of the header word.
enum class RecordState : std::uint8_t {
  kPending = 1,    ///< Claimed; the writer is filling it in.
  kPublished = 2,  ///< Complete: payload and CRC are valid.
  kSkipped = 3,    ///< Padding to the segment's end, or a dead writer's claim.
};

/// The 16 bytes before every payload. `word` is written first by the claim (CAS from 0)
/// and last by the publish (release), so a reader that loads it with acquire sees either
/// nothing, a claim whose size is already known, or a complete record.
struct RecordHeader {
  std::atomic<std::uint64_t> word;  // size:32 | writer id:30 | state:2; 0 = never claimed.
  std::uint32_t payload_bytes;
  std::uint32_t crc32c;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderBytes);

constexpr std::uint64_t make_word(std::uint32_t size, std::uint32_t writer, RecordState state) {
  return std::uint64_t{size} | (std::uint64_t{writer & kMaxWriterId} << 32) |
         (std::uint64_t{static_cast<std::uint8_t>(state)} << 62);
}
constexpr std::uint32_t word_size(std::uint64_t word) { return static_cast<std::uint32_t>(word); }
constexpr std::uint32_t word_writer(std::uint64_t word) {
  return static_cast<std::uint32_t>(word >> 32) & kMaxWriterId;
}
constexpr RecordState word_state(std::uint64_t word) {
  return static_cast<RecordState>(word >> 62);
}

constexpr std::uint64_t align_record(std::uint64_t bytes) {
  return (bytes + kRecordAlignment - 1) & ~std::uint64_t{kRecordAlignment - 1};
}

/// Bytes a record with `payload` bytes occupies.
constexpr std::uint64_t record_bytes(std::uint64_t payload) {
  return align_record(kRecordHeaderBytes + payload);
}

/// The largest payload a segment of `segment_bytes` can hold.
constexpr std::uint64_t max_payload(std::uint64_t segment_bytes) {
  return segment_bytes - kFileHeaderBytes - kRecordHeaderBytes;
}

/// A position that points at a segment's start means its first record.
constexpr std::uint64_t normalize(std::uint64_t position, std::uint64_t segment_bytes) {
  return position % segment_bytes == 0 ? position + kFileHeaderBytes : position;
}

constexpr std::uint64_t first_position(std::uint64_t segment_index, std::uint64_t segment_bytes) {
  return segment_index * segment_bytes + kFileHeaderBytes;
}

/// Whether `position` can be where a record starts: inside a segment's record area,
/// aligned, and below kMaxPosition.
constexpr bool is_record_boundary(std::uint64_t position, std::uint64_t segment_bytes) {
  const std::uint64_t offset = position % segment_bytes;
  return position < kMaxPosition && offset >= kFileHeaderBytes && offset % kRecordAlignment == 0;
}

/// Whether the header word at `offset` of a segment describes a slot that fits the
/// segment; anything else is damage, and the rest of the segment cannot be trusted.
constexpr bool word_fits(std::uint64_t word, std::uint64_t offset, std::uint64_t segment_bytes) {
  const std::uint64_t size = word_size(word);
  const auto state = word_state(word);
  if (state != RecordState::kPending && state != RecordState::kPublished &&
      state != RecordState::kSkipped) {
    return false;
  }
  const std::uint64_t smallest =
      state == RecordState::kSkipped ? kRecordAlignment : kRecordHeaderBytes;
  return size >= smallest && size % kRecordAlignment == 0 && size <= segment_bytes - offset;
}

/// Whether a published record's payload length agrees with its slot.
constexpr bool payload_fits(std::uint32_t payload_bytes, std::uint64_t slot_bytes) {
  return record_bytes(payload_bytes) == slot_bytes;
}

/// A valid header for segment `index`.
inline FileHeader make_file_header(std::uint64_t segment_bytes, std::uint64_t index) {
  FileHeader header{};
  std::memcpy(header.magic, kSegmentMagic, sizeof header.magic);
  header.version = kLayoutVersion;
  header.header_bytes = kFileHeaderBytes;
  header.segment_bytes = segment_bytes;
  header.segment_index = index;
  return header;
}

/// Whether `header` is segment `index` of a topic with `segment_bytes` segments.
inline bool file_header_valid(const FileHeader& header, std::uint64_t segment_bytes,
                              std::uint64_t index) {
  return std::memcmp(header.magic, kSegmentMagic, sizeof header.magic) == 0 &&
         header.version == kLayoutVersion && header.header_bytes == kFileHeaderBytes &&
         header.segment_bytes == segment_bytes && header.segment_index == index;
}

/// Where a group file's GroupTable starts (the committed position's record comes first).
inline constexpr std::uint64_t kGroupTableOffset = 4096;
inline constexpr char kGroupTableMagic[8] = {'M', 'L', 'O', 'P', 'G', 'R', 'P', '1'};
/// Ranges a group can have claimed at once; a member finding none free waits for commits.
inline constexpr std::uint32_t kGroupSlots = 80;

/// What a claimed range of a group is.
enum class ClaimState : std::uint32_t {
  kFree = 0,       ///< Unused slot.
  kClaimed = 1,    ///< Handed to its owner; reclaimable once the owner dies or its lease ends.
  kReleased = 2,   ///< Its owner left without committing: the next member to look takes it.
  kCommitted = 3,  ///< Processed; merged into the watermark once every range below is too.
};

/// One range [start, end) of log positions a group member claimed. 48 bytes.
struct ClaimSlot {
  std::uint64_t start;
  std::uint64_t end;
  /// Unique per claim (a takeover gives a new one), so an owner that stalled past its
  /// lease can tell its claim was taken and does not commit someone else's.
  std::uint64_t claim_id;
  /// CLOCK_MONOTONIC ns after which another member may take the range.
  std::int64_t lease_until;
  /// The owner: its process's registry id (ProcessRegistry) and its member number there.
  std::uint32_t owner_process;
  std::uint32_t owner_member;
  ClaimState state;
  std::uint32_t reserved;
};
static_assert(sizeof(ClaimSlot) == 48);

/// A group's claim table, read and written whole (one page, one pread/pwrite) under the
/// group file's flock. Invariant: the non-free slots partition [watermark, frontier).
struct GroupTable {
  char magic[8];
  std::uint32_t version;
  /// CRC32C of the table with this field zero, up to slots[used_slots].
  std::uint32_t crc;
  /// The committed position this table was built on: equal to the CursorRecord's, or the
  /// table is stale (a crash between the two writes, a restored copy) and is rebuilt.
  std::uint64_t watermark;
  /// Everything below has been claimed at least once; new claims start here.
  std::uint64_t frontier;
  std::uint64_t next_claim_id;
  /// Slots at and above this index are free (and not covered by the CRC).
  std::uint32_t used_slots;
  std::uint8_t reserved[20];
  ClaimSlot slots[kGroupSlots];
};
static_assert(sizeof(GroupTable) <= 4096);

}  // namespace mlops::orchestration::detail::mmap
