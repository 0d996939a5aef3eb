// libFuzzer target: the mmap queue reader over a segment file whose contents (after a valid
// file header) are the input, sometimes truncated, with the tail inside it or past it.
// Reading must never crash, hang or read outside the mapping, whatever the bytes; damage is
// skipped and counted.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "orchestration/mmap/layout.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/queue.h"

namespace mq = mlops::orchestration::detail::mmap;

namespace {

constexpr std::uint64_t kSegmentBytes = 4096;

const std::string& work_dir() {
  static const std::string dir = [] {
    auto path = std::filesystem::temp_directory_path() /
                ("mlops-segment-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    return path.string();
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dir = work_dir();
  std::filesystem::remove_all(dir + "/t");
  mq::QueueSettings settings;
  settings.log.segment_bytes = kSegmentBytes;
  settings.log.populate = false;
  settings.log.pending_timeout = std::chrono::milliseconds(0);  // Never wait on a claim.
  auto queue = mq::Queue::open(dir, settings);
  if (!queue) return 0;
  auto log = (*queue)->topic("t");
  if (!log) return 0;

  // Segment 0: a valid header, then the input; the first input byte picks truncation.
  std::string segment(kSegmentBytes, '\0');
  const auto header = mq::make_file_header(kSegmentBytes, 0);
  std::memcpy(segment.data(), &header, sizeof header);
  const std::size_t body = std::min<std::size_t>(size, kSegmentBytes - sizeof header);
  if (body > 0) std::memcpy(segment.data() + sizeof header, data, body);
  if (size > 0 && (data[0] & 1) != 0) segment.resize(sizeof header + body);
  std::ofstream(dir + "/t/00000000000000000000.seg", std::ios::binary)
      .write(segment.data(), static_cast<std::streamsize>(segment.size()));

  // Bytes 1-2 place the tail inside the segment, bit 1 of byte 0 past it: the reader then
  // meets holes and damage below the tail (a power loss's shapes) and must step over them.
  if (size > 2) {
    const std::uint64_t offset =
        64 + (static_cast<std::uint64_t>(data[1] | (data[2] << 8)) % (kSegmentBytes - 64)) / 8 * 8;
    (*log)->control().tail.store((data[0] & 2) != 0 ? mq::first_position(1, kSegmentBytes)
                                                    : offset);
  }
  mq::LogReader reader(*log, (*log)->earliest());
  mq::LogRecord record;
  std::uint64_t sum = 0;
  for (int records = 0; records < 1024 && reader.next(record); ++records) {
    for (const auto byte : record.payload) sum += byte;
    if (record.next <= record.position) __builtin_trap();  // The reader must move forward.
  }
  volatile std::uint64_t sink = sum + reader.damaged();
  (void)sink;
  return 0;
}
