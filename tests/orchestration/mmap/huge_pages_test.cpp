// Huge pages for busy writers (issue 13): a writer that appends kHugePageWriterBytes without
// a sync has its segment's mapping ask for transparent huge pages; once it syncs, the rest
// asks for small ones again (a sync writes a huge page whole); one that syncs often never
// asks. Read from the kernel's own account of this process's mappings (/proc/self/smaps).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "orchestration/mmap/log_writer.h"
#include "orchestration/mmap/queue.h"
#include "support/mmap_test_support.h"

namespace mq = mlops::orchestration::detail::mmap;
using mlops::testing::TempDir;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kSegmentBytes = std::uint64_t{32} << 20;

std::string first_segment(const TempDir& dir) { return dir.str() + "/t/00000000000000000000.seg"; }

// The VmFlags of every mapping of `path` in this process ("hg": asks for huge pages; "nh":
// asks for small ones).
std::set<std::string> mapping_flags(const std::string& path) {
  std::ifstream smaps("/proc/self/smaps");
  std::set<std::string> flags;
  bool ours = false;
  for (std::string line; std::getline(smaps, line);) {
    if (line.rfind("VmFlags:", 0) == 0) {
      if (!ours) continue;
      std::istringstream words(line.substr(8));
      for (std::string flag; words >> flag;) flags.insert(flag);
      continue;
    }
    // A mapping's first line: "start-end perms offset dev inode path"; the others are
    // "Name: value".
    const std::string first = line.substr(0, line.find(' '));
    if (first.find(':') == std::string::npos && first.find('-') != std::string::npos) {
      ours = line.size() >= path.size() &&
             line.compare(line.size() - path.size(), path.size(), path) == 0;
    }
  }
  return flags;
}

// Waits (at most 10 s: the segment preparer's thread does the work) for `flag`.
bool flag_appears(const std::string& path, const std::string& flag) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (mapping_flags(path).count(flag) != 0) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

std::shared_ptr<mq::TopicLog> open_log(const TempDir& dir, bool populate = true) {
  mq::QueueSettings settings;
  settings.log.segment_bytes = kSegmentBytes;
  settings.log.populate = populate;
  auto queue = mq::Queue::open(dir.str(), settings);
  EXPECT_TRUE(queue.has_value()) << queue.error().message;
  auto log = (*queue)->topic("t");
  EXPECT_TRUE(log.has_value()) << log.error().message;
  return *log;
}

// Appends `bytes` of 1 KiB records, syncing after every `sync_every` bytes (0: never).
void append(mq::LogWriter& writer, std::uint64_t bytes, std::uint64_t sync_every = 0) {
  const std::string payload(1000, 'p');
  std::uint64_t since_sync = 0;
  for (std::uint64_t written = 0; written < bytes; written += payload.size()) {
    ASSERT_TRUE(writer.append(mlops::testing::as_bytes(payload)).has_value());
    since_sync += payload.size();
    if (sync_every != 0 && since_sync >= sync_every) {
      ASSERT_TRUE(writer.sync().has_value());
      since_sync = 0;
    }
  }
}

bool kernel_has_huge_pages() {
  return std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled");
}

}  // namespace

TEST(MmapHugePages, ABusyWriterAsksForThemAndForSmallPagesAgainOnceItSyncs) {
  if (!kernel_has_huge_pages()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  TempDir dir;
  auto log = open_log(dir);
  mq::LogWriter writer(log);
  append(writer, mq::kHugePageWriterBytes / 2);
  ASSERT_TRUE(writer.sync().has_value());
  EXPECT_EQ(mapping_flags(first_segment(dir)).count("hg"), 0U)
      << "huge pages asked for after " << mq::kHugePageWriterBytes / 2 << " bytes";

  append(writer, 2 * mq::kHugePageWriterBytes);
  EXPECT_TRUE(flag_appears(first_segment(dir), "hg"))
      << "no huge pages asked for after " << 2 * mq::kHugePageWriterBytes << " bytes unsynced";

  ASSERT_TRUE(writer.sync().has_value());
  append(writer, 1000);
  EXPECT_TRUE(flag_appears(first_segment(dir), "nh"))
      << "the rest of the segment still asks for huge pages after a sync";
}

TEST(MmapHugePages, AWriterThatSyncsOftenNeverAsksForThem) {
  if (!kernel_has_huge_pages()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  TempDir dir;
  auto log = open_log(dir);
  mq::LogWriter writer(log);
  append(writer, 3 * mq::kHugePageWriterBytes, mq::kHugePageWriterBytes / 4);
  ASSERT_TRUE(writer.sync().has_value());
  // Every request this writer made asked for small pages: none can still bring "hg".
  EXPECT_EQ(mapping_flags(first_segment(dir)).count("hg"), 0U);
  EXPECT_FALSE(mapping_flags(first_segment(dir)).empty()) << "the segment is not mapped";
}

// A topic that populates nothing ahead holds no space ahead either: huge pages would need
// the rest of the segment's blocks first, so it never asks for them.
TEST(MmapHugePages, ATopicThatPopulatesNothingNeverAsksForThemNorHoldsBlocksAhead) {
  if (!kernel_has_huge_pages()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  for (const bool populate : {true, false}) {
    TempDir dir;
    auto log = open_log(dir, populate);
    mq::LogWriter writer(log);
    append(writer, 1000);
    log->prepare(0, 0, mq::kInitialAllocationBytes, true);  // As the preparer's thread would.
    struct stat segment {};
    ASSERT_EQ(::stat(first_segment(dir).c_str(), &segment), 0);
    const bool held_ahead = static_cast<std::uint64_t>(segment.st_blocks) * 512 > kSegmentBytes / 2;
    EXPECT_EQ(mapping_flags(first_segment(dir)).count("hg"), populate ? 1U : 0U)
        << "populate " << populate;
    EXPECT_EQ(held_ahead, populate)
        << "populate " << populate << ": " << segment.st_blocks * 512 << " bytes allocated";
  }
}
