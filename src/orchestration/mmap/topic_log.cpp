#include "orchestration/mmap/topic_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <new>

#include "mlops/log.h"
#include "orchestration/mmap/group_cursor.h"

namespace mlops::orchestration::mmap {
namespace {

constexpr std::uint64_t kControlFileBytes = 4096;

std::string segment_path(const std::string& directory, std::uint64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "%020" PRIu64 ".seg", index);
  return directory + "/" + name;
}

std::vector<std::uint8_t> initial_control_block(std::uint64_t segment_bytes) {
  std::vector<std::uint8_t> bytes(sizeof(ControlBlock));
  alignas(ControlBlock) std::uint8_t storage[sizeof(ControlBlock)] = {};
  auto* control = new (storage) ControlBlock{};
  std::memcpy(control->magic, kControlMagic, sizeof control->magic);
  control->version = kLayoutVersion;
  control->segment_bytes = segment_bytes;
  control->tail.store(first_position(0, segment_bytes));
  control->first_segment.store(0);
  std::memcpy(bytes.data(), storage, sizeof storage);
  control->~ControlBlock();
  return bytes;
}

}  // namespace

Result<std::shared_ptr<TopicLog>> TopicLog::open(const std::string& queue_dir,
                                                 const std::string& topic,
                                                 const LogSettings& settings,
                                                 std::shared_ptr<NotifyBlock> notify) {
  if (settings.segment_bytes < kMinSegmentBytes || settings.segment_bytes > kMaxSegmentBytes ||
      settings.segment_bytes % kRecordAlignment != 0) {
    return Error{ErrorCode::kInvalidArgument,
                 "segment_bytes must be a multiple of 8 from 4096 to 2 GiB, not " +
                     std::to_string(settings.segment_bytes)};
  }
  std::shared_ptr<TopicLog> log(new TopicLog());
  log->gate_ = std::make_shared<PrepareGate>();
  log->gate_->log = log.get();
  log->name_ = topic;
  log->directory_ = queue_dir + "/" + topic;
  log->settings_ = settings;
  log->notify_ = std::move(notify);
  if (auto made = make_directories(log->directory_ + "/groups"); !made) return made.error();

  const std::string control_path = log->directory_ + "/control";
  const auto initial = initial_control_block(settings.segment_bytes);
  auto created = create_file_atomically(control_path, initial, kControlFileBytes);
  if (!created) return created.error();
  auto control = MappedFile::open(control_path, kControlFileBytes, false);
  if (!control) return control.error();
  log->control_ = std::move(*control);
  const auto& block = log->control();
  if (std::memcmp(block.magic, kControlMagic, sizeof block.magic) != 0 ||
      block.version != kLayoutVersion || block.segment_bytes < kMinSegmentBytes ||
      block.segment_bytes > kMaxSegmentBytes || block.segment_bytes % kRecordAlignment != 0) {
    return Error{ErrorCode::kCorrupt, "'" + control_path + "' is not an mmap queue control file"};
  }
  // A topic keeps the segment size it was created with.
  log->segment_bytes_ = block.segment_bytes;
  log->settings_.segment_bytes = block.segment_bytes;
  return log;
}

Result<std::shared_ptr<Segment>> TopicLog::segment(std::uint64_t index, bool create) {
  std::lock_guard lock(mutex_);
  if (auto found = segments_.find(index); found != segments_.end()) {
    if (auto segment = found->second.lock()) return segment;
    segments_.erase(found);
  }
  const auto path = segment_path(directory_, index);
  if (create) {
    const auto header = make_file_header(segment_bytes_, index);
    auto created = create_file_atomically(
        path, std::span(reinterpret_cast<const std::uint8_t*>(&header), sizeof header),
        segment_bytes_);
    if (!created) return created.error();
    if (*created) directory_dirty_.store(true, std::memory_order_release);
  }
  // Faulting in happens in prepare(), off the writer's path (segment_preparer.h).
  auto file = MappedFile::open(path, segment_bytes_, false);
  if (!file) return file.error();
  const auto& header = *reinterpret_cast<const FileHeader*>(file->data());
  if (!file_header_valid(header, segment_bytes_, index)) {
    return Error{ErrorCode::kCorrupt, "'" + path + "' has a damaged segment header"};
  }
  auto segment = std::make_shared<Segment>(Segment{std::move(*file), index});
  segments_[index] = segment;
  return segment;
}

TopicLog::~TopicLog() {
  if (!gate_) return;
  const std::lock_guard lock(gate_->mutex);  // waits for a preparation under way
  gate_->log = nullptr;
}

void TopicLog::prepare(std::uint64_t index) {
  if (index < control().first_segment.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(mutex_);
    if (prepared_indexes_.count(index) != 0) return;
  }
  auto segment = this->segment(index, /*create=*/true);
  if (!segment) return;  // The writer meets the same error itself and reports it.
  if (settings_.populate) {
    // Writable, unlike MAP_POPULATE, so the writer's first store to a page does not fault.
    // Kernels before 5.14 refuse it (EINVAL); the writer then just faults as it goes.
    (void)::madvise((*segment)->file.data(), (*segment)->file.size(), MADV_POPULATE_WRITE);
  }
  std::lock_guard lock(mutex_);
  prepared_indexes_.insert(index);
  while (prepared_indexes_.size() > 4) prepared_indexes_.erase(prepared_indexes_.begin());
  if (!prepared_ || prepared_->index < index) prepared_ = std::move(*segment);
}

Result<void> TopicLog::sync_directory() {
  if (!directory_dirty_.exchange(false, std::memory_order_acq_rel)) return {};
  const int fd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    auto error = errno_error("cannot sync directory", directory_);
    if (fd >= 0) ::close(fd);
    directory_dirty_.store(true, std::memory_order_release);
    return error;
  }
  ::close(fd);
  return {};
}

std::uint64_t TopicLog::earliest() const noexcept {
  return first_position(control().first_segment.load(std::memory_order_acquire), segment_bytes_);
}

std::uint64_t TopicLog::latest() const noexcept {
  return normalize(control().tail.load(std::memory_order_acquire), segment_bytes_);
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
  for (std::uint64_t index = first; index < limit; ++index) {
    const auto path = segment_path(directory_, index);
    struct stat info {};
    const bool exists = ::stat(path.c_str(), &info) == 0;
    bool expired = !exists;
    if (exists && settings_.retention_age.count() > 0) {
      const auto modified = std::chrono::system_clock::from_time_t(info.st_mtime);
      expired = now - modified > settings_.retention_age;
    }
    const bool too_much = settings_.retention_bytes != 0 && held > settings_.retention_bytes;
    if (!expired && !too_much) break;  // Oldest first: stop at the first one to keep.
    // Unlinking is safe while mapped: every mapping of it stays valid until unmapped.
    if (exists && ::unlink(path.c_str()) == 0) ++deleted;
    held -= std::min(held, segment_bytes_);
    std::uint64_t expected = index;
    control.first_segment.compare_exchange_strong(expected, index + 1, std::memory_order_acq_rel);
    first = index + 1;
  }
  if (deleted > 0) {
    log(LogLevel::kInfo, "mmap queue: retention deleted " + std::to_string(deleted) +
                             " segment(s) of topic '" + name_ + "'");
  }
  return deleted;
}

}  // namespace mlops::orchestration::mmap
