#include "orchestration/mmap/topic_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <new>
#include <optional>
#include <thread>

#include "mlops/log.h"
#include "orchestration/mmap/crc32c.h"
#include "orchestration/mmap/fork_guard.h"
#include "orchestration/mmap/futex.h"
#include "orchestration/mmap/group_cursor.h"

namespace mlops::orchestration::detail::mmap {
namespace {

constexpr std::uint64_t kControlFileBytes = 4096;
// Another process checking or repairing the control block holds it this long at most.
constexpr auto kControlLockTimeout = std::chrono::seconds(5);
// Making a segment on a filesystem without fallocate writes all of it (glibc's emulation)
// and syncs it: seconds on a slow disk.
constexpr auto kSegmentLockTimeout = std::chrono::seconds(30);
// A temporary file this old belongs to a creator that died; younger ones may be in use.
constexpr std::time_t kStaleTemporarySeconds = 600;

std::string segment_name(std::uint64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "%020" PRIu64 ".seg", index);
  return name;
}

std::optional<std::uint64_t> parse_segment_name(const std::string& name) {
  if (name.size() != 24 || !name.ends_with(".seg")) return std::nullopt;
  std::uint64_t index = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    index = index * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return index;
}

bool valid_segment_bytes(std::uint64_t bytes) {
  return bytes >= kMinSegmentBytes && bytes <= kMaxSegmentBytes && bytes % kRecordAlignment == 0;
}

std::uint32_t control_crc(const ControlBlock& control) {
  std::uint8_t bytes[sizeof control.magic + sizeof control.version + sizeof control.segment_bytes];
  std::memcpy(bytes, control.magic, sizeof control.magic);
  std::memcpy(bytes + 8, &control.version, sizeof control.version);
  std::memcpy(bytes + 12, &control.segment_bytes, sizeof control.segment_bytes);
  return crc32c(bytes, sizeof bytes);
}

std::vector<std::uint8_t> initial_control_block(std::uint64_t segment_bytes) {
  std::vector<std::uint8_t> bytes(sizeof(ControlBlock));
  alignas(ControlBlock) std::uint8_t storage[sizeof(ControlBlock)] = {};
  auto* control = new (storage) ControlBlock{};
  std::memcpy(control->magic, kControlMagic, sizeof control->magic);
  control->version = kLayoutVersion;
  control->segment_bytes = segment_bytes;
  control->header_crc = control_crc(*control);
  control->tail.store(first_position(0, segment_bytes));
  control->first_segment.store(0);
  control->synced.store(first_position(0, segment_bytes));
  std::memcpy(bytes.data(), storage, sizeof storage);
  control->~ControlBlock();
  return bytes;
}

std::int64_t monotonic_coarse_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// Holds a file's flock: the control file's while one process checks and repairs the
// control block, the topic directory's while one thread makes a segment.
class FileLock {
 public:
  /// Locks `fd` within `timeout`; with `owned`, the lock closes `fd` when it goes (or fails).
  static Result<FileLock> take(int fd, const std::string& path, std::chrono::seconds timeout,
                               bool owned = false) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const bool busy = errno == EWOULDBLOCK || errno == EINTR;
      if (busy && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      Error error =
          busy ? Error{ErrorCode::kTimeout, "'" + path + "' stayed locked by another process for " +
                                                std::to_string(timeout.count()) + " s"}
               : errno_error("cannot lock", path);
      if (owned) ::close(fd);
      return error;
    }
    return FileLock(fd, owned);
  }
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)), owned_(other.owned_) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ < 0) return;
    ::flock(fd_, LOCK_UN);
    if (owned_) ::close(fd_);
  }

 private:
  FileLock(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_;
  bool owned_;
};

// A control file cut short (truncate -s) with its magic intact holds no more damage than
// the same file zero-extended, which check_control and repair_positions mend: a writer gives
// it back its size, zeros past the cut. Anything else is left for MappedFile::open to refuse.
Result<void> restore_control_size(const Directory& dir) {
  const std::string path = dir.path_of("control");
  const int fd = ::openat(dir.fd(), "control", O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return {};  // MappedFile::open reports why.
  struct stat info {};
  char magic[sizeof kControlMagic] = {};
  const bool short_control =
      ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<std::uint64_t>(info.st_size) < kControlFileBytes &&
      ::pread(fd, magic, sizeof magic, 0) == static_cast<ssize_t>(sizeof magic) &&
      std::memcmp(magic, kControlMagic, sizeof magic) == 0;
  if (!short_control) {
    ::close(fd);
    return {};
  }
  if (::ftruncate(fd, static_cast<off_t>(kControlFileBytes)) != 0) {
    auto error = errno_error("cannot restore the size of", path);
    ::close(fd);
    return error;
  }
  ::close(fd);
  log(LogLevel::kWarning, "mmap queue: '" + path + "' was cut short to " +
                              std::to_string(info.st_size) + " bytes; restored to " +
                              std::to_string(kControlFileBytes) +
                              " and checked against the segments");
  return {};
}

}  // namespace

Result<std::shared_ptr<TopicLog>> TopicLog::open(const Directory& root, const std::string& topic,
                                                 const LogSettings& settings,
                                                 const FileModes& modes,
                                                 std::shared_ptr<ProcessRegistry> registry) {
  if (!valid_segment_bytes(settings.segment_bytes)) {
    return Error{ErrorCode::kInvalidArgument,
                 "segment_bytes must be a multiple of 8 from 4096 to 2 GiB, not " +
                     std::to_string(settings.segment_bytes)};
  }
  auto made = make(root, topic, settings, modes, std::move(registry));
  if (!made) return made.error();
  auto log = std::move(*made);
  auto groups = log->directory_.subdirectory("groups", modes);
  if (!groups) return groups.error();
  log->groups_ = std::move(*groups);

  const auto initial = initial_control_block(settings.segment_bytes);
  auto created =
      create_file_atomically(log->directory_, "control", initial, kControlFileBytes, modes.file);
  if (!created) return created.error();
  if (*created) {
    // A new topic's directory entries (its own in the root; control and groups in it)
    // are durable before anything is written to it.
    if (auto synced = log->directory_.sync(); !synced) return synced.error();
    if (auto synced = root.sync(); !synced) return synced.error();
  }
  if (auto restored = restore_control_size(log->directory_); !restored) return restored.error();
  auto control = MappedFile::open(log->directory_, "control", kControlFileBytes,
                                  MappedFile::Access::kReadWrite);
  if (!control) return control.error();
  log->control_ = std::move(*control);

  auto lock = FileLock::take(log->control_.fd(), log->control_.path(), kControlLockTimeout);
  if (!lock) return lock.error();
  if (auto checked = log->check_control(settings.segment_bytes); !checked) return checked.error();
  if (auto repaired = log->repair_positions(); !repaired) return repaired.error();
  return log;
}

Result<std::shared_ptr<TopicLog>> TopicLog::make(const Directory& root, const std::string& topic,
                                                 const LogSettings& settings,
                                                 const FileModes& modes,
                                                 std::shared_ptr<ProcessRegistry> registry) {
  std::shared_ptr<TopicLog> log(new TopicLog());
  log->gate_ = std::make_shared<PrepareGate>();
  log->gate_->log = log.get();
  log->name_ = topic;
  log->settings_ = settings;
  log->modes_ = modes;
  log->registry_ = std::move(registry);
  auto directory = root.subdirectory(topic, modes);
  if (!directory) return directory.error();
  log->directory_ = std::move(*directory);
  return log;
}

Result<std::shared_ptr<TopicLog>> TopicLog::open_read_only(
    const Directory& root, const std::string& topic, const LogSettings& settings,
    const FileModes& modes, std::shared_ptr<ProcessRegistry> registry) {
  struct stat info {};
  const std::string control_path = topic + "/control";
  if (::fstatat(root.fd(), control_path.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error{ErrorCode::kNotFound, "no topic '" + topic + "' in " + root.path()};
  }
  auto made = make(root, topic, settings, modes, std::move(registry));
  if (!made) return made.error();
  auto log = std::move(*made);
  log->read_only_ = true;
  // Without a groups directory there are no groups to list; it is not made here.
  if (::fstatat(log->directory_.fd(), "groups", &info, AT_SYMLINK_NOFOLLOW) == 0) {
    auto groups = log->directory_.subdirectory("groups", modes);
    if (!groups) return groups.error();
    log->groups_ = std::move(*groups);
  }
  // A control file cut short reads as zeros past the cut (what a writer's open would
  // restore); the file itself is not touched.
  auto control = MappedFile::open(log->directory_, "control", kControlFileBytes,
                                  MappedFile::Access::kReadOnly, /*allow_short=*/true);
  if (!control) return control.error();
  log->control_ = std::move(*control);
  if (auto checked = log->check_control(settings.segment_bytes); !checked) return checked.error();
  return log;
}

Result<void> TopicLog::check_control(std::uint64_t requested_segment_bytes) {
  auto& block = control();
  const std::string& path = control_.path();
  if (std::memcmp(block.magic, kControlMagic, sizeof block.magic) != 0) {
    return Error{ErrorCode::kCorrupt, "'" + path + "' is not an mmap queue control file"};
  }
  if (block.version == 1 && block.header_crc == 0) {
    return Error{ErrorCode::kCorrupt, "'" + path + "' was made by an older mlops (layout 1, now " +
                                          std::to_string(kLayoutVersion) +
                                          "); move the topic away and let it be recreated"};
  }
  if (block.version != kLayoutVersion || block.header_crc != control_crc(block) ||
      !valid_segment_bytes(block.segment_bytes)) {
    // A damaged header: the segments say what the segment size is.
    std::uint64_t bytes = 0;
    for (const auto index : segment_indexes()) {
      const int fd = ::openat(directory_.fd(), segment_name(index).c_str(),
                              O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) continue;
      FileHeader header{};
      const bool read =
          ::pread(fd, &header, sizeof header, 0) == static_cast<ssize_t>(sizeof header);
      ::close(fd);
      if (read && valid_segment_bytes(header.segment_bytes) &&
          file_header_valid(header, header.segment_bytes, index)) {
        bytes = header.segment_bytes;
        break;
      }
    }
    if (read_only_) {
      // Only looking: the size the segments say, kept in this process; the file unchanged.
      if (bytes == 0) {
        return Error{ErrorCode::kCorrupt,
                     "'" + path + "' has a damaged header and no segment says its size"};
      }
      segment_bytes_ = bytes;
      settings_.segment_bytes = bytes;
      return {};
    }
    block.version = kLayoutVersion;
    block.segment_bytes = bytes != 0 ? bytes : requested_segment_bytes;
    block.header_crc = control_crc(block);
    log(LogLevel::kWarning, "mmap queue: repaired the damaged header of '" + path +
                                "' (segment size " + std::to_string(block.segment_bytes) + ")");
    if (auto synced = sync_control(); !synced) return synced;
  }
  // A topic keeps the segment size it was created with.
  segment_bytes_ = block.segment_bytes;
  settings_.segment_bytes = block.segment_bytes;
  return {};
}

Result<void> TopicLog::repair_positions() {
  auto& block = control();
  const std::uint64_t bytes = segment_bytes_;
  const std::uint64_t last_index = kMaxPosition / bytes - 2;
  // The positions before the listing: writers running meanwhile create segments before the
  // tail enters them, so every segment below the tail read here is in the listing.
  const std::uint64_t raw_first = block.first_segment.load(std::memory_order_acquire);
  const std::uint64_t raw_tail = block.tail.load(std::memory_order_acquire);
  const auto indexes = segment_indexes();
  std::uint64_t first = raw_first;
  std::uint64_t tail = normalize(raw_tail, bytes);
  bool changed = false;

  // The tail: a record boundary no further than one segment past the last file.
  const std::uint64_t top = indexes.empty() ? std::min(first, last_index) : indexes.back();
  const bool tail_fits = is_record_boundary(tail, bytes) && tail / bytes <= top + 1 &&
                         tail / bytes >= std::min(first, top);
  if (!tail_fits) {
    tail = first_position(top, bytes);  // Found again by walking that segment, below.
    changed = true;
  }
  // The first segment: not past the tail, and not below files that are all gone.
  const std::uint64_t tail_index = tail / bytes;
  if (first > tail_index) {
    first = indexes.empty() ? tail_index : std::min(indexes.front(), tail_index);
  } else if (!indexes.empty() && indexes.front() != first) {
    // Files gone below it (removed by retention or by hand) move it up to the oldest one
    // left; files still there below it (a flipped bit, or a crash between moving it and
    // unlinking) move it down: a consumed segment read again beats unread ones skipped.
    first = std::min(indexes.front(), tail_index);
  }
  if (first != raw_first) {
    std::uint64_t expected = raw_first;
    // Retention moving it meanwhile knows better than this look at the files.
    if (block.first_segment.compare_exchange_strong(expected, first, std::memory_order_acq_rel)) {
      changed = true;
    }
  }

  // Walk the tail's segment: the tail must sit on a record boundary, with no hole below it.
  auto segment = map_segment(tail_index, MappedFile::Access::kReadWrite);
  const bool missing = !segment && segment.error().code == ErrorCode::kNotFound;
  if ((!segment && segment.error().code == ErrorCode::kCorrupt) ||
      (missing && tail != first_position(tail_index, bytes))) {
    // Damaged, or gone while the tail says records were written in it (its directory entry
    // lost to a power loss, a flipped bit): writers start afresh in the next segment.
    // A file cut short is never written again (readers still get the records it holds).
    struct stat info {};
    const std::string name = segment_name(tail_index);
    if (!missing && ::fstatat(directory_.fd(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(info.st_mode) && static_cast<std::uint64_t>(info.st_size) < bytes) {
      // A cut at or past the tail took no record with it.
      const bool lost = tail_index * bytes + static_cast<std::uint64_t>(info.st_size) < tail;
      log(LogLevel::kWarning,
          "mmap queue, topic '" + name_ + "': segment file '" + directory_.path_of(name) +
              "' is cut short: bytes [" + std::to_string(info.st_size) + ", " +
              std::to_string(bytes) + ") are missing" +
              (lost ? " and the records in them lost" : " (past the last record: nothing lost)") +
              "; writing resumes in the next segment");
    }
    tail = first_position(tail_index + 1, bytes);
    changed = true;
  } else if (segment) {
    const std::uint64_t base = tail_index * bytes;
    const std::uint64_t end = base + bytes;
    std::uint64_t position = first_position(tail_index, bytes);
    bool tail_on_boundary = false;
    std::uint64_t reached = end;  // Where the records end: the first zero word.
    while (position < end) {
      if (position == tail) tail_on_boundary = true;
      const std::uint64_t word =
          (*segment)->header_at(position - base)->word.load(std::memory_order_acquire);
      if (word == 0) {
        reached = position;
        break;
      }
      if (!word_fits(word, position - base, bytes)) break;  // The rest is unreadable.
      position += word_size(word);
    }
    if (tail > reached) {
      // A zero word below the tail: pages lost to a power loss, or damage. Nothing may ever
      // be written below a published record, so the rest of this segment is given up.
      std::uint64_t empty = 0;
      const auto padding = make_word(static_cast<std::uint32_t>(end - reached), kRepairWriter,
                                     RecordState::kSkipped);
      if ((*segment)->file.allocate(reached - base, kRecordAlignment)) {
        (void)(*segment)->header_at(reached - base)->word.compare_exchange_strong(empty, padding);
      }
      log(LogLevel::kWarning, "mmap queue, topic '" + name_ + "': a hole at position " +
                                  std::to_string(reached) + " below the tail " +
                                  std::to_string(tail) + "; writing resumes in the next segment");
      tail = first_position(tail_index + 1, bytes);
      changed = true;
    } else if (!tail_on_boundary && tail != reached) {
      tail = reached == end ? first_position(tail_index + 1, bytes) : reached;  // Mid-record.
      changed = true;
    }
  }
  if (tail != normalize(raw_tail, bytes)) {
    std::uint64_t expected = raw_tail;
    // A writer that moved it meanwhile is running on a good tail: its value stands.
    block.tail.compare_exchange_strong(expected, tail, std::memory_order_acq_rel);
  }
  // The durable watermark is only ever trusted up to the tail's segment.
  const std::uint64_t synced_limit = first_position(block.tail.load() / bytes, bytes);
  std::uint64_t synced = block.synced.load(std::memory_order_acquire);
  while (synced > synced_limit &&
         !block.synced.compare_exchange_weak(synced, synced_limit, std::memory_order_acq_rel)) {
  }
  if (changed) {
    log(LogLevel::kWarning, "mmap queue, topic '" + name_ + "': repaired the control block (tail " +
                                std::to_string(block.tail.load()) + ", first segment " +
                                std::to_string(block.first_segment.load()) + ")");
    return sync_control();
  }
  return {};
}

std::vector<std::uint64_t> TopicLog::segment_indexes() const {
  std::vector<std::uint64_t> indexes;
  DIR* listing = ::fdopendir(::dup(directory_.fd()));
  if (listing == nullptr) return indexes;
  ::rewinddir(listing);  // A dup shares the offset of an earlier listing.
  const std::time_t now = std::time(nullptr);
  while (const dirent* entry = ::readdir(listing)) {
    const std::string name = entry->d_name;
    if (auto index = parse_segment_name(name)) {
      indexes.push_back(*index);
    } else if (!read_only_ && is_temporary_name(name)) {
      struct stat info {};
      if (::fstatat(directory_.fd(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
          now - info.st_mtime > kStaleTemporarySeconds) {
        ::unlinkat(directory_.fd(), name.c_str(), 0);  // A killed creator's leftover.
      }
    }
  }
  ::closedir(listing);
  std::sort(indexes.begin(), indexes.end());
  return indexes;
}

Result<std::shared_ptr<Segment>> TopicLog::map_segment(std::uint64_t index,
                                                       MappedFile::Access access) {
  // Read-only, a file cut short still gives the records it holds (zeros past its end).
  auto file = MappedFile::open(directory_, segment_name(index), segment_bytes_, access,
                               /*allow_short=*/access == MappedFile::Access::kReadOnly);
  if (!file) return file.error();
  if (file->file_size() < kFileHeaderBytes) {
    return Error{ErrorCode::kCorrupt, "'" + file->path() + "' is " +
                                          std::to_string(file->file_size()) +
                                          " bytes, shorter than a segment header"};
  }
  const auto& header = *reinterpret_cast<const FileHeader*>(file->data());
  if (!file_header_valid(header, segment_bytes_, index)) {
    return Error{ErrorCode::kCorrupt, "'" + file->path() + "' has a damaged segment header"};
  }
  return std::make_shared<Segment>(Segment{std::move(*file), index});
}

Result<std::shared_ptr<Segment>> TopicLog::segment(std::uint64_t index, MappedFile::Access access) {
  const ForkGuard guard;
  const std::uint64_t key = index * 2 + (access == MappedFile::Access::kReadWrite ? 1 : 0);
  const std::lock_guard lock(mutex_);
  if (auto found = segments_.find(key); found != segments_.end()) {
    if (auto segment = found->second.lock()) return segment;
    segments_.erase(found);
  }
  auto segment = map_segment(index, access);
  if (!segment) return segment.error();
  segments_[key] = *segment;
  return segment;
}

Result<std::shared_ptr<Segment>> TopicLog::writable_segment(std::uint64_t index) {
  const ForkGuard guard;
  auto below_first = [&] {
    return Error{ErrorCode::kNotFound, "segment " + std::to_string(index) + " of topic '" + name_ +
                                           "' is below the first segment (deleted by retention)"};
  };
  if (index < control().first_segment.load(std::memory_order_acquire)) return below_first();
  {
    const std::lock_guard lock(mutex_);
    if (auto found = segments_.find(index * 2 + 1); found != segments_.end()) {
      if (auto segment = found->second.lock()) return segment;
    }
  }
  const auto header = make_file_header(segment_bytes_, index);
  const std::string name = segment_name(index);
  Result<bool> created = false;
  // Made already (for all writers but one): nothing to wait for.
  if (::faccessat(directory_.fd(), name.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
    // One maker at a time: each would otherwise allocate a whole segment of its own before
    // the name picks one (N times the space on a filesystem without fallocate); the next
    // finds the name and maps that file. A descriptor of its own, because flock excludes by
    // open file description: threads of this process, and a child that inherited the
    // directory's descriptor, are kept apart too.
    const int fd = ::openat(directory_.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error("cannot open", directory_.path());
    auto locked = FileLock::take(fd, directory_.path(), kSegmentLockTimeout, true);
    if (!locked) return locked.error();
    created = create_file_atomically(
        directory_, name, std::span(reinterpret_cast<const std::uint8_t*>(&header), sizeof header),
        segment_bytes_, modes_.file, kInitialAllocationBytes);
  }
  if (!created) return created.error();
  if (*created && index < control().first_segment.load(std::memory_order_acquire)) {
    // Retention passed it while it was being made: it must not come back below the first.
    ::unlinkat(directory_.fd(), segment_name(index).c_str(), 0);
    return below_first();
  }
  const std::lock_guard lock(mutex_);
  auto segment = map_segment(index, MappedFile::Access::kReadWrite);
  if (!segment) return segment.error();
  segments_[index * 2 + 1] = *segment;
  return segment;
}

TopicLog::~TopicLog() {
  if (!gate_) return;
  const ForkGuard guard;
  const std::lock_guard lock(gate_->mutex);  // waits for a preparation under way
  gate_->log = nullptr;
}

void TopicLog::prepare(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
                       bool huge_pages) {
  const std::uint64_t key = index * segment_bytes_ + begin;
  {
    const std::lock_guard lock(mutex_);
    if (prepared_chunks_.count(key) != 0) return;
  }
  auto segment = writable_segment(index);
  if (!segment) return;  // The writer meets the same error itself and reports it.
  // The chunk's blocks before it is populated (populating a hole allocates them anyway, with
  // EFAULT for a full disk). The writer meets and reports the same error. Unpopulated, the
  // writer allocates what it reaches itself, and no space is held ahead of it.
  if (settings_.populate && !(*segment)->file.allocate(begin, end - begin)) return;
  const std::uint64_t page = page_bytes();
  const std::uint64_t from = std::min(begin / page * page, segment_bytes_);
  const std::uint64_t length = std::min(end, segment_bytes_) - from;
  // The whole rest of the segment, so that the writer's own faults, when it gets ahead of
  // this thread, bring in huge pages too. Its blocks first: a huge page over a hole
  // reserves the hole's blocks at the first store, and a full disk would then be a SIGBUS
  // (when allocating fails, small pages it stays). Only a hint: a kernel or filesystem
  // without huge file pages keeps small ones. Never where nothing is populated: such a
  // topic holds no space ahead of its writer.
  if (huge_pages && settings_.populate && !(*segment)->huge_pages &&
      (*segment)->file.allocate(from, segment_bytes_ - from).has_value()) {
    (void)::madvise((*segment)->file.data() + from, segment_bytes_ - from, MADV_HUGEPAGE);
    (*segment)->huge_pages = true;
  }
  if (settings_.populate && length > 0) {
    // Writable, unlike MAP_POPULATE, so the writer's first store to a page does not fault.
    // Kernels before 5.14 refuse it (EINVAL); the writer then just faults as it goes.
    (void)::madvise((*segment)->file.data() + from, length, MADV_POPULATE_WRITE);
  }
  const std::lock_guard lock(mutex_);
  prepared_chunks_.insert(key);
  while (prepared_chunks_.size() > 16) prepared_chunks_.erase(prepared_chunks_.begin());
  if (!prepared_ || prepared_->index < index) prepared_ = std::move(*segment);
}

void TopicLog::use_small_pages(std::uint64_t index, std::uint64_t from) {
  std::shared_ptr<Segment> segment;
  {
    const std::lock_guard lock(mutex_);
    if (auto found = segments_.find(index * 2 + 1); found != segments_.end()) {
      segment = found->second.lock();
    }
  }
  if (!segment || !segment->huge_pages) return;
  const std::uint64_t page = page_bytes();
  from = std::min((from + page - 1) / page * page, segment_bytes_);
  if (from < segment_bytes_) {
    (void)::madvise(segment->file.data() + from, segment_bytes_ - from, MADV_NOHUGEPAGE);
  }
  segment->huge_pages = false;
}

Result<void> TopicLog::sync_directory(std::uint64_t index) {
  if (directory_synced_.load(std::memory_order_acquire) > index) return {};
  if (auto synced = directory_.sync(); !synced) return synced;
  std::uint64_t done = directory_synced_.load(std::memory_order_acquire);
  while (done < index + 1 &&
         !directory_synced_.compare_exchange_weak(done, index + 1, std::memory_order_acq_rel)) {
  }
  return {};
}

Result<void> TopicLog::sync_control() const { return control_.sync(0, sizeof(ControlBlock)); }

std::uint64_t TopicLog::earliest() const noexcept {
  const std::uint64_t first = control().first_segment.load(std::memory_order_acquire);
  return first_position(std::min(first, kMaxPosition / segment_bytes_ - 1), segment_bytes_);
}

std::uint64_t TopicLog::latest() const noexcept {
  return normalize(control().tail.load(std::memory_order_acquire), segment_bytes_);
}

void TopicLog::wake_readers() const noexcept {
  // Dekker with a reader going to sleep: we publish (seq_cst) then load `waiters`
  // (seq_cst); it stores sleep_until, increments `waiters` (both seq_cst), then looks at the
  // record. Either it sees our record, or we see it waiting. A reader killed asleep leaves
  // `waiters` up, but its sleep_until passes: then no wake-up is paid for it.
  auto& block = control();
  if (block.waiters.load(std::memory_order_seq_cst) == 0) return;
  const std::int64_t now = monotonic_coarse_ns();
  const std::int64_t until = block.sleep_until.load(std::memory_order_seq_cst);
  // No reader announces more than kMaxSleepAnnounced ahead: a later time is from another
  // boot (or clock) and no reader can be asleep on it.
  if (now >= until || until - now > kMaxSleepAnnounced.count()) return;
  block.wake.fetch_add(1, std::memory_order_release);
  futex_wake_all(block.wake);
}

bool TopicLog::swap_word(const Segment& segment, std::uint64_t offset, std::uint64_t expected,
                         std::uint64_t desired) const {
  // A looking-only log writes nothing; past a short file's end there is no file to write.
  if (read_only_ || offset + sizeof(std::uint64_t) > segment.file_bytes()) return false;
  if (segment.file.writable()) {
    return segment.header_at(offset)->word.compare_exchange_strong(expected, desired,
                                                                   std::memory_order_acq_rel);
  }
  // A consumer maps segments read-only; the one word it may change goes through a writable
  // view of its page alone (the same page of the file, so the CAS is the writers' CAS).
  const int fd = ::openat(directory_.fd(), segment_name(segment.index).c_str(),
                          O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  const std::uint64_t page = page_bytes();
  const std::uint64_t from = offset / page * page;
  void* view =
      ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(from));
  ::close(fd);
  if (view == MAP_FAILED) return false;
  auto* word = reinterpret_cast<std::atomic<std::uint64_t>*>(static_cast<std::uint8_t*>(view) +
                                                             (offset - from));
  const bool swapped = word->compare_exchange_strong(expected, desired, std::memory_order_acq_rel);
  ::munmap(view, page);
  return swapped;
}

std::size_t TopicLog::apply_retention(std::uint64_t committed) {
  auto& control = this->control();
  const std::uint64_t tail_index = latest() / segment_bytes_;
  // Segments below this index hold nothing any group still needs, nor the tail.
  const std::uint64_t limit = std::min(committed / segment_bytes_, tail_index);
  std::uint64_t first = control.first_segment.load(std::memory_order_acquire);
  std::uint64_t held = (tail_index + 1 - std::min(first, tail_index + 1)) * segment_bytes_;
  std::size_t deleted = 0;
  const auto now = std::chrono::system_clock::now();
  // Files already missing below the limit (deleted by hand, or a crash) are consumed too.
  auto advance_first = [&](std::uint64_t to) {
    std::uint64_t expected = first;
    while (expected < to &&
           !control.first_segment.compare_exchange_weak(expected, to, std::memory_order_acq_rel)) {
    }
    first = std::max(expected, to);
  };
  const auto indexes = segment_indexes();
  const auto kept = std::lower_bound(indexes.begin(), indexes.end(), first);
  advance_first(std::min(kept == indexes.end() ? tail_index : *kept, limit));
  for (const auto index : indexes) {
    if (index >= limit) break;
    const auto name = segment_name(index);
    if (index < first) {
      // Left below the first segment by a crash between advancing it and unlinking.
      if (::unlinkat(directory_.fd(), name.c_str(), 0) == 0) ++deleted;
      continue;
    }
    struct stat info {};
    const bool exists = ::fstatat(directory_.fd(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0;
    bool expired = !exists;
    if (exists && settings_.retention_age.count() > 0) {
      const auto modified = std::chrono::system_clock::from_time_t(info.st_mtime);
      expired = now - modified > settings_.retention_age;
    }
    const bool too_much = settings_.retention_bytes != 0 && held > settings_.retention_bytes;
    if (!expired && !too_much) break;  // Oldest first: stop at the first one to keep.
    // First move the first segment past it, then unlink: a crash between the two leaves a
    // file below the first segment (removed next time), never a hole above it.
    advance_first(index + 1);
    // Unlinking is safe while mapped: every mapping of it stays valid until unmapped.
    if (exists && ::unlinkat(directory_.fd(), name.c_str(), 0) == 0) ++deleted;
    held -= std::min(held, segment_bytes_);
  }
  if (deleted > 0) {
    log(LogLevel::kInfo, "mmap queue: retention deleted " + std::to_string(deleted) +
                             " segment(s) of topic '" + name_ + "'");
  }
  return deleted;
}

}  // namespace mlops::orchestration::detail::mmap
