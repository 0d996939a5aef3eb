#include "mmap_inspector.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "orchestration/mmap/crc32c.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/layout.h"

namespace mlops::tool {
namespace {

namespace layout = orchestration::detail::mmap;

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// Reads exactly size bytes at offset. @return false on a short read or an error.
bool read_at(int fd, void* out, std::size_t size, std::uint64_t offset) {
  auto* bytes = static_cast<std::uint8_t*>(out);
  std::size_t done = 0;
  while (done < size) {
    const auto got = ::pread(fd, bytes + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

std::vector<std::string> entries(int dir_fd) {
  std::vector<std::string> names;
  DIR* dir = ::fdopendir(::dup(dir_fd));
  if (dir == nullptr) return names;
  ::rewinddir(dir);
  while (const dirent* entry = ::readdir(dir)) names.emplace_back(entry->d_name);
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::uint64_t> segment_index(const std::string& name) {
  if (name.size() != 24 || !name.ends_with(".seg")) return std::nullopt;
  std::uint64_t index = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    index = index * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return index;
}

std::string range(std::uint64_t from, std::uint64_t to, const std::string& why) {
  return "[" + std::to_string(from) + ", " + std::to_string(to) + "): " + why;
}

// Walks the records of one segment file, as a reader would, without trusting anything.
void scan_segment(int topic_fd, const std::string& name, SegmentReport& report,
                  std::uint64_t segment_bytes, std::uint64_t tail) {
  const Fd fd(::openat(topic_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  const std::uint64_t base = report.index * segment_bytes;
  const std::uint64_t end_of_segment = base + segment_bytes;
  if (fd.get() < 0) {
    report.damage.push_back(
        range(base, end_of_segment, std::string("cannot open: ") + std::strerror(errno)));
    return;
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    report.damage.push_back(range(base, end_of_segment, "not a regular file"));
    return;
  }
  report.bytes_on_disk = static_cast<std::uint64_t>(info.st_blocks) * 512;
  if (static_cast<std::uint64_t>(info.st_size) != segment_bytes) {
    report.damage.push_back(range(base, end_of_segment,
                                  "file is " + std::to_string(info.st_size) + " bytes, not " +
                                      std::to_string(segment_bytes)));
    return;
  }
  layout::FileHeader header{};
  if (!read_at(fd.get(), &header, sizeof header, 0) ||
      !layout::file_header_valid(header, segment_bytes, report.index)) {
    report.damage.push_back(range(base, end_of_segment, "bad segment header"));
    return;
  }
  std::vector<std::uint8_t> payload;
  std::uint64_t offset = layout::kFileHeaderBytes;
  while (offset + layout::kRecordHeaderBytes <= segment_bytes) {
    const std::uint64_t position = base + offset;
    if (position >= tail) break;  // Nothing claimed from here on.
    std::uint64_t word = 0;
    std::uint32_t sizes[2] = {0, 0};  // payload_bytes, crc32c
    if (!read_at(fd.get(), &word, sizeof word, offset) ||
        !read_at(fd.get(), sizes, sizeof sizes, offset + 8)) {
      report.damage.push_back(range(position, end_of_segment, "unreadable"));
      return;
    }
    if (word == 0) {
      report.damage.push_back(
          range(position, std::min(tail, end_of_segment), "hole below the tail (never written)"));
      return;
    }
    if (!layout::word_fits(word, offset, segment_bytes)) {
      report.damage.push_back(range(position, end_of_segment, "bad record header"));
      return;
    }
    const std::uint64_t slot = layout::word_size(word);
    switch (layout::word_state(word)) {
      case layout::RecordState::kPending: ++report.pending; break;
      case layout::RecordState::kSkipped:
        if (layout::word_writer(word) == layout::kRepairWriter) {
          report.damage.push_back(
              range(position, position + slot, "padding written by repair over a hole"));
        }
        ++report.skipped;
        break;
      case layout::RecordState::kPublished:
        if (!layout::payload_fits(sizes[0], slot)) {
          report.damage.push_back(
              range(position, position + slot, "payload length disagrees with its slot"));
          break;
        }
        payload.resize(sizes[0]);
        if (!read_at(fd.get(), payload.data(), payload.size(),
                     offset + layout::kRecordHeaderBytes) ||
            layout::crc32c(payload.data(), payload.size()) != sizes[1]) {
          report.damage.push_back(range(position, position + slot, "CRC mismatch"));
          break;
        }
        ++report.published;
        report.published_bytes += sizes[0];
        break;
    }
    offset += slot;
  }
}

TopicReport inspect_topic(const layout::Directory& root, const std::string& name) {
  TopicReport report;
  report.name = name;
  const Fd topic_fd(
      ::openat(root.fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (topic_fd.get() < 0) {
    report.problem = std::string("cannot open: ") + std::strerror(errno);
    return report;
  }
  {
    const Fd control(
        ::openat(topic_fd.get(), "control", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    alignas(layout::ControlBlock) std::uint8_t bytes[sizeof(layout::ControlBlock)] = {};
    if (control.get() < 0) {
      report.problem = std::string("control file cannot be opened: ") + std::strerror(errno);
      return report;
    }
    if (!read_at(control.get(), bytes, sizeof bytes, 0)) {
      report.problem = "control file is damaged: shorter than a control block";
      return report;
    }
    const auto* block = reinterpret_cast<const layout::ControlBlock*>(bytes);
    if (std::memcmp(block->magic, layout::kControlMagic, sizeof block->magic) != 0 ||
        block->version != layout::kLayoutVersion ||
        block->segment_bytes < layout::kMinSegmentBytes ||
        block->segment_bytes > layout::kMaxSegmentBytes) {
      report.problem = "control file is damaged: bad magic, layout version or segment size";
      return report;
    }
    report.segment_bytes = block->segment_bytes;
    report.tail = block->tail.load();
    report.first_segment = block->first_segment.load();
    report.synced = block->synced.load();
    struct stat info {};
    if (::fstat(control.get(), &info) == 0)
      report.bytes_on_disk += static_cast<std::uint64_t>(info.st_blocks) * 512;
  }
  for (const auto& entry : entries(topic_fd.get())) {
    const auto index = segment_index(entry);
    if (!index) continue;
    SegmentReport segment;
    segment.index = *index;
    scan_segment(topic_fd.get(), entry, segment, report.segment_bytes, report.tail);
    report.bytes_on_disk += segment.bytes_on_disk;
    report.segments.push_back(std::move(segment));
  }
  // The segments the control block says exist but whose files are gone, as one range per
  // run (a damaged tail may claim billions of them).
  const std::uint64_t tail_index = report.tail / report.segment_bytes;
  const bool empty_tail = report.tail % report.segment_bytes <= layout::kFileHeaderBytes;
  const std::uint64_t last = empty_tail && tail_index > 0 ? tail_index - 1 : tail_index;
  std::vector<std::uint64_t> present;
  for (const auto& segment : report.segments) present.push_back(segment.index);
  std::uint64_t next = report.first_segment;
  auto report_missing = [&](std::uint64_t from, std::uint64_t to) {  // [from, to)
    if (from >= to) return;
    SegmentReport missing;
    missing.index = from;
    missing.damage.push_back(range(from * report.segment_bytes, to * report.segment_bytes,
                                   std::to_string(to - from) + " segment file(s) missing"));
    report.segments.push_back(std::move(missing));
  };
  if (!(empty_tail && tail_index == report.first_segment)) {
    for (const auto index : present) {
      if (index > last) break;
      if (index >= next) {
        report_missing(next, index);
        next = index + 1;
      }
    }
    report_missing(next, last + 1);
  }
  std::sort(report.segments.begin(), report.segments.end(),
            [](const SegmentReport& a, const SegmentReport& b) { return a.index < b.index; });
  struct stat info {};
  if (::fstatat(topic_fd.get(), "groups", &info, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(info.st_mode)) {
    // Through the library's own cursor reader: no lock taken, nothing written.
    const layout::FileModes modes{.file = 0666, .directory = 0777};
    auto topic_dir = layout::Directory::open_root(root.path_of(name), modes);
    if (topic_dir) {
      auto groups = topic_dir->subdirectory("groups", modes);
      if (groups) report.groups = layout::committed_positions(*groups);
    }
  }
  return report;
}

}  // namespace

Result<std::vector<TopicReport>> inspect_queue(const std::string& directory) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) {
    return Error{ErrorCode::kNotFound, "no queue at '" + directory + "': " + std::strerror(errno)};
  }
  if (!S_ISDIR(info.st_mode))
    return Error{ErrorCode::kInvalidArgument, "'" + directory + "' is not a directory"};
  // The root exists, so open_root creates nothing; it checks ownership as the library does.
  auto root =
      layout::Directory::open_root(directory, layout::FileModes{.file = 0666, .directory = 0777});
  if (!root) return root.error();
  std::vector<TopicReport> topics;
  for (const auto& name : entries(root->fd())) {
    if (!layout::valid_file_name(name)) continue;
    struct stat entry {};
    if (::fstatat(root->fd(), name.c_str(), &entry, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(entry.st_mode))
      continue;
    // A topic's directory holds a control file, segments or groups; others are not the queue's.
    const Fd dir(
        ::openat(root->fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) continue;
    const auto names = entries(dir.get());
    const bool topic_like = std::any_of(names.begin(), names.end(), [](const std::string& n) {
      return n == "control" || n == "groups" || segment_index(n).has_value();
    });
    if (topic_like) topics.push_back(inspect_topic(*root, name));
  }
  if (topics.empty() && ::faccessat(root->fd(), ".procs", F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error{ErrorCode::kNotFound,
                 "'" + directory + "' is not an mmap queue (no topics, no .procs)"};
  }
  return topics;
}

}  // namespace mlops::tool
