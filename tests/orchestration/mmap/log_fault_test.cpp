// Regression tests for the faults an adversarial review found in the mmap log (issue 12),
// each named after the fault: holes, missing and damaged segments, a damaged control block,
// writer liveness across PID namespaces, durability of a flush, and the smaller ones.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mlops/log.h"
#include "orchestration/mmap/crash_points.h"
#include "orchestration/mmap/file_util.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/log_writer.h"
#include "support/mmap_test_support.h"
#include "support/no_fallocate.h"

namespace mq = mlops::orchestration::detail::mmap;
namespace fs = std::filesystem;
using mlops::testing::as_bytes;
using mlops::testing::as_text;
using mlops::testing::small_segments;
using mlops::testing::TempDir;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<mq::TopicLog> open_log(const TempDir& dir,
                                       mq::QueueSettings settings = small_segments()) {
  auto queue = mq::Queue::open(dir.str(), settings);
  EXPECT_TRUE(queue.has_value()) << queue.error().message;
  auto log = (*queue)->topic("t");
  EXPECT_TRUE(log.has_value()) << log.error().message;
  return *log;
}

struct Read {
  std::vector<std::string> texts;
  std::uint64_t damaged = 0;
};

Read read_everything(const std::shared_ptr<mq::TopicLog>& log) {
  mq::LogReader reader(log, log->earliest());
  Read read;
  mlops::testing::read_available(
      reader, [&](const mq::LogRecord& record) { read.texts.push_back(as_text(record.payload)); });
  read.damaged = reader.damaged();
  return read;
}

std::string segment_path(const TempDir& dir, int index) {
  char name[32];
  std::snprintf(name, sizeof name, "%020d.seg", index);
  return dir.str() + "/t/" + name;
}

// Writes `bytes` zero bytes at `offset` of `path`, as a lost page would read back.
void zero_range(const std::string& path, std::uint64_t offset, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const std::vector<char> zeros(bytes, 0);
  ASSERT_EQ(::pwrite(fd, zeros.data(), bytes, static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes));
  ::close(fd);
}

// A 64 KiB segment with one record, left as `cp --sparse=always` leaves it: the unwritten
// part has no blocks. An open descriptor of it, or -1 (also when it kept its blocks).
int sparse_segment(const TempDir& dir, const mq::QueueSettings& settings) {
  {
    auto log = open_log(dir, settings);
    mq::LogWriter writer(log);
    if (!writer.append(as_bytes("x"))) return -1;
  }
  const int fd = ::open(segment_path(dir, 0).c_str(), O_RDWR);
  if (fd >= 0 &&
      ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 65536 - 8192) != 0) {
    ::close(fd);
    return -1;
  }
  struct stat punched {};
  if (fd >= 0 && (::fstat(fd, &punched) != 0 || punched.st_blocks * 512 >= 65536)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST(MmapLogFaults, HoleBelowTheTailIsSteppedOverAndNeverWrittenInto) {
  TempDir dir;
  std::uint64_t hole = 0;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    ASSERT_TRUE(writer.append(as_bytes("first")).has_value());
    hole = *writer.append(as_bytes("lost"));
    ASSERT_TRUE(writer.append(as_bytes("third")).has_value());
  }
  // After a power loss the page of "lost" came back as zeros, the tail beyond it.
  zero_range(segment_path(dir, 0), hole % 4096, 32);
  auto log = open_log(dir);
  EXPECT_GE(log->latest(), mq::first_position(1, 4096)) << "writing resumes past the hole";
  mq::LogWriter writer(log);
  const auto after = writer.append(as_bytes("after"));
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after, mq::first_position(1, 4096)) << "never written below a published record";
  const auto read = read_everything(log);
  EXPECT_EQ(read.texts, (std::vector<std::string>{"first", "after"}));
  EXPECT_GE(read.damaged, 1U) << "what the repair gave up after the hole is reported";
}

TEST(MmapLogFaults, ZeroWordBelowTheTailIsReportedNotTakenForTheEnd) {
  TempDir dir;
  auto log = open_log(dir);
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("a")).has_value());
  const auto hole = *writer.append(as_bytes("b"));
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(writer.append(as_bytes("record " + std::to_string(i))).has_value());
  // Damage while open: the hole is in segment 0, the tail several segments on.
  auto segment = *log->writable_segment(0);
  segment->header_at(hole % 4096)->word.store(0);
  const auto read = read_everything(log);
  ASSERT_FALSE(read.texts.empty());
  EXPECT_EQ(read.texts.front(), "a");
  EXPECT_EQ(read.texts.back(), "record 199") << "the reader went on past the hole";
  EXPECT_GE(read.damaged, 1U);
}

TEST(MmapLogFaults, MissingSegmentBelowTheTailIsSkippedWithAReport) {
  TempDir dir;
  auto log = open_log(dir);
  mq::LogWriter writer(log);
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(writer.append(as_bytes("r" + std::to_string(i))).has_value());
  ASSERT_GE(log->latest() / 4096, 3U);
  fs::remove(segment_path(dir, 1));
  const auto read = read_everything(log);
  EXPECT_EQ(read.texts.front(), "r0");
  EXPECT_EQ(read.texts.back(), "r999") << "a missing segment stalled the reader";
  EXPECT_LT(read.texts.size(), 1000U);
  EXPECT_GE(read.damaged, 1U);
}

TEST(MmapLogFaults, MissingFirstSegmentIsRepairedOnOpen) {
  TempDir dir;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    for (int i = 0; i < 1000; ++i)
      ASSERT_TRUE(writer.append(as_bytes("r" + std::to_string(i))).has_value());
  }
  // A crash between unlinking and advancing the first segment (the old order) left this.
  fs::remove(segment_path(dir, 0));
  auto log = open_log(dir);
  EXPECT_EQ(log->control().first_segment.load(), 1U);
  const auto read = read_everything(log);
  EXPECT_EQ(read.damaged, 0U) << "a segment gone below the first is retention, not damage";
  EXPECT_EQ(read.texts.back(), "r999");
}

TEST(MmapLogFaults, RetentionRemovesFilesLeftBelowTheFirstSegment) {
  TempDir dir;
  auto log = open_log(dir);  // Retention by age (a week) and size (none) keeps everything.
  mq::LogWriter writer(log);
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(writer.append(as_bytes("r" + std::to_string(i))).has_value());
  // No group: nothing counts as consumed, so only a stray below the first may go.
  log->control().first_segment.store(2);
  log->apply_retention(log->latest());
  EXPECT_FALSE(fs::exists(segment_path(dir, 0)));
  EXPECT_FALSE(fs::exists(segment_path(dir, 1)));
  EXPECT_TRUE(fs::exists(segment_path(dir, 2)));
}

TEST(MmapLogFaults, SegmentIsNeverCreatedAgainBelowTheFirst) {
  TempDir dir;
  auto log = open_log(dir);
  log->control().first_segment.store(5);
  auto segment = log->writable_segment(3);
  ASSERT_FALSE(segment.has_value());
  EXPECT_EQ(segment.error().code, mlops::ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(segment_path(dir, 3)));
}

TEST(MmapLogFaults, DamagedSegmentAtTheTailMovesWritersToTheNext) {
  TempDir dir;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    ASSERT_TRUE(writer.append(as_bytes("before")).has_value());
  }
  zero_range(segment_path(dir, 0), 0, 8);  // The segment's magic.
  auto log = open_log(dir);
  mq::LogWriter writer(log);
  const auto position = writer.append(as_bytes("after"));
  ASSERT_TRUE(position.has_value()) << position.error().message;
  EXPECT_GE(*position, mq::first_position(1, 4096));
  // An operator removing the damaged file does not bring it back behind the readers.
  fs::remove(segment_path(dir, 0));
  ASSERT_TRUE(writer.append(as_bytes("later")).has_value());
  EXPECT_FALSE(fs::exists(segment_path(dir, 0)));
  const auto read = read_everything(log);
  EXPECT_EQ(read.texts, (std::vector<std::string>{"after", "later"}));
}

TEST(MmapLogFaults, TailOneBitFromASegmentStartDoesNotHangWriters) {
  TempDir dir;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    for (int i = 0; i < 300; ++i)
      ASSERT_TRUE(writer.append(as_bytes("r" + std::to_string(i))).has_value());
    ASSERT_GE(log->latest() / 4096, 1U);
    // tail = k*S + 64 with bit 6 flipped is k*S: the raw, unnormalised segment start.
    const std::uint64_t k = log->latest() / 4096 + 1;
    log->control().tail.store(k * 4096);
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(10);  // A hang fails the test as SIGALRM instead of stalling the suite.
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    ::_exit(writer.append(as_bytes("after")).has_value() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "writer killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(read_everything(open_log(dir)).texts.back(), "after");
}

TEST(MmapLogFaults, GarbageFirstSegmentAndTailAreRepairedOnOpen) {
  TempDir dir;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(writer.append(as_bytes("r" + std::to_string(i))).has_value());
    log->control().first_segment.store(UINT64_MAX / 3);
    log->control().tail.store(UINT64_MAX - 5);
  }
  auto log = open_log(dir);
  EXPECT_EQ(log->control().first_segment.load(), 0U);
  EXPECT_LT(log->latest(), 64U * 4096);
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("after")).has_value());
  const auto read = read_everything(log);
  EXPECT_EQ(read.texts.front(), "r0");
  EXPECT_EQ(read.texts.back(), "after");
  EXPECT_EQ(read.texts.size(), 101U);
}

TEST(MmapLogFaults, FlippedSegmentSizeInTheControlBlockIsRepairedFromTheSegments) {
  TempDir dir;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    ASSERT_TRUE(writer.append(as_bytes("kept")).has_value());
    log->control().segment_bytes ^= 1U << 13;  // 4096 -> 12288, still a valid size.
  }
  auto log = open_log(dir);
  EXPECT_EQ(log->segment_bytes(), 4096U);
  EXPECT_EQ(read_everything(log).texts, (std::vector<std::string>{"kept"}));
}

TEST(MmapLogFaults, LiveWriterOfAnotherPidNamespaceIsNotTakenForDead) {
  TempDir dir;
  auto settings = small_segments();
  settings.log.pending_timeout = 60s;  // Only liveness may end the wait here.
  auto log = open_log(dir, settings);
  int claimed[2];
  int release[2];
  ASSERT_EQ(::pipe(claimed), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(claimed[0]);
    ::close(release[1]);  // Else the writer never sees the parent let go.
    // In a PID namespace of its own (where permitted) the writer is pid 1, as in a container.
    const bool own_namespace = ::unshare(CLONE_NEWPID) == 0;
    const pid_t writer = own_namespace ? ::fork() : 0;
    if (writer != 0) ::_exit(0);
    auto child_log = open_log(dir, settings);
    const auto id = child_log->registry().id();
    const auto position = child_log->latest();
    auto segment = child_log->writable_segment(position / 4096);
    if (!id || !segment) ::_exit(2);
    (*segment)
        ->header_at(position % 4096)
        ->word.store(mq::make_word(static_cast<std::uint32_t>(mq::record_bytes(4)), *id,
                                   mq::RecordState::kPending));
    child_log->control().tail.store(position + mq::record_bytes(4));
    const char state = own_namespace ? 'n' : 'p';
    (void)!::write(claimed[1], &state, 1);
    char byte = 0;
    (void)!::read(release[0], &byte, 1);  // Alive until the parent lets go.
    ::_exit(0);
  }
  ::close(claimed[1]);
  ::close(release[0]);
  char state = 0;
  ASSERT_EQ(::read(claimed[0], &state, 1), 1);
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("behind the claim")).has_value());
  mq::LogReader reader(log, log->earliest());
  mq::LogRecord record;
  const auto until = std::chrono::steady_clock::now() + 200ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_FALSE(reader.next(record))
        << "a live writer's claim was skipped ("
        << (state == 'n' ? "own PID namespace" : "same namespace") << ")";
  }
  ::close(release[1]);  // The writer exits: its lock goes with it.
  bool got = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!got && std::chrono::steady_clock::now() < deadline) got = reader.next(record);
  ASSERT_TRUE(got) << "a dead writer's claim was waited on past its death";
  EXPECT_EQ(as_text(record.payload), "behind the claim");
  EXPECT_EQ(reader.abandoned(), 1U);
  ::waitpid(child, nullptr, 0);
  ::close(claimed[0]);
  if (state != 'n') std::printf("(no PID namespace here: the same-namespace case ran)\n");
}

TEST(MmapLogFaults, WriterSkippedAgainAndAgainGivesUpWithAnError) {
  TempDir dir;
  auto settings = small_segments();
  settings.log.pending_timeout = 1ms;
  auto log = open_log(dir, settings);
  std::atomic<bool> stop{false};
  std::uint64_t abandoned = 0;
  // A reader that skips every claim pending longer than a millisecond.
  std::thread reader([&] {
    mq::LogReader reader(log, log->earliest());
    mq::LogRecord record;
    while (!stop.load()) (void)reader.next(record);
    abandoned = reader.abandoned();
  });
  mq::stall_before_publish(200ms);  // Every publish comes far too late.
  mq::LogWriter writer(log);
  const auto appended = writer.append(as_bytes("always late"));
  mq::stall_before_publish(0ms);
  stop.store(true);
  reader.join();
  ASSERT_FALSE(appended.has_value()) << "appended again and again without bound";
  EXPECT_NE(appended.error().message.find("skipped"), std::string::npos)
      << appended.error().message;
  EXPECT_EQ(abandoned, 9U) << "the first try and 8 appends again";
}

namespace {
std::mutex g_synced_mutex;
std::vector<std::string> g_synced;
void remember_sync(const std::string& path, int, std::uint64_t, std::uint64_t) {
  const std::lock_guard lock(g_synced_mutex);
  g_synced.push_back(path);
}
}  // namespace

TEST(MmapLogFaults, FlushSyncsTheControlBlockAndTheDirectoryToo) {
  TempDir dir;
  auto log = open_log(dir);
  mq::LogWriter writer(log);
  mq::testing::set_sync_observer(&remember_sync);
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(writer.append(as_bytes("r" + std::to_string(i))).has_value());
  ASSERT_TRUE(writer.sync().has_value());
  mq::testing::set_sync_observer(nullptr);
  const std::set<std::string> synced(g_synced.begin(), g_synced.end());
  EXPECT_TRUE(synced.count(dir.str() + "/t/control")) << "the control block (tail) was not synced";
  EXPECT_TRUE(synced.count(dir.str() + "/t")) << "the directory entries were not synced";
  EXPECT_TRUE(synced.count(segment_path(dir, 0)));
}

TEST(MmapLogFaults, SparseSegmentIsAllocatedBeforeItIsWritten) {
  TempDir dir;
  const auto settings = small_segments(65536);
  const int fd = sparse_segment(dir, settings);
  ASSERT_GE(fd, 0);
  auto log = open_log(dir, settings);
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("y")).has_value());
  struct stat after {};
  ASSERT_EQ(::fstat(fd, &after), 0);
  ::close(fd);
  EXPECT_GE(after.st_blocks * 512, 65536) << "written through a mapping without its blocks";
}

namespace {

// Runs `body` in a forked child (20 s at most) and returns its wait status; the child exits
// with what `body` returns.
template <typename Body>
int in_a_child(Body body) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(20);
    ::_exit(body());
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return -1;
  return status;
}

// in_a_child, on a tmpfs of `size` in a private mount namespace mounted on `dir`; the child
// exits 77 where no such filesystem can be had (not root).
template <typename Body>
int in_a_small_filesystem(const TempDir& dir, const char* size, Body body) {
  return in_a_child([&] {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.str().c_str(), "tmpfs", 0, size) != 0) {
      return 77;
    }
    return body();
  });
}

// Fills what is left of the filesystem holding `dir` with a file of its own: true once it
// is full.
bool fill_the_disk(const TempDir& dir) {
  const int filler = ::open((dir.str() + "/filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (filler < 0) return false;
  const std::string block(4096, 'f');
  while (::write(filler, block.data(), block.size()) > 0) {
  }
  const bool full = errno == ENOSPC;
  ::close(filler);
  return full;
}

// Segments bigger than what a new one allocates up front, so writers allocate as they go.
constexpr std::uint64_t kBigSegmentBytes = std::uint64_t{4} << 20;
static_assert(mq::kInitialAllocationBytes < kBigSegmentBytes);

// Appends up to `most` 1000-byte payloads to topic `topic`, stopping when the disk is full:
// the count appended, or -1 when an append failed for another reason.
int append_until_full(const std::string& root, const std::string& topic, int most = 8000,
                      std::uint64_t segment_bytes = kBigSegmentBytes) {
  auto queue = mq::Queue::open(root, small_segments(segment_bytes));
  if (!queue) return -1;
  auto log = (*queue)->topic(topic);
  if (!log) return log.error().message.find("No space left") != std::string::npos ? 0 : -1;
  mq::LogWriter writer(*log);
  const std::string payload(1000, 'p');
  for (int i = 0; i < most; ++i) {
    auto appended = writer.append(as_bytes(payload));
    if (!appended) {
      return appended.error().message.find("No space left") != std::string::npos ? i : -1;
    }
  }
  return most;
}

void expect_exited_with_zero(int status, const char* codes = "") {
  ASSERT_TRUE(WIFEXITED(status)) << "the writer died of signal " << WTERMSIG(status);
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no private mount namespace here (needs root)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "78: seccomp refused the filter; " << codes;
}

}  // namespace

TEST(MmapLogFaults, FullDiskIsAnErrorNotASigbus) {
  TempDir dir;
  expect_exited_with_zero(in_a_small_filesystem(dir, "size=2m", [&] {
    const int appended = append_until_full(dir.str() + "/q", "t");
    return appended > 0 && appended < 8000 ? 0 : 3;
  }));
}

// ext3 and ext2 have no fallocate: blocks come at a page's first write fault, and on a full
// disk that fault is a SIGBUS unless it is taken where it can fail softly. A segment with
// holes (copied sparse) on a full disk without fallocate.
TEST(MmapLogFaults, FullDiskWithoutFallocateIsAnErrorNotASigbus) {
  TempDir dir;
  expect_exited_with_zero(
      in_a_small_filesystem(
          dir, "size=2m",
          [&] {
            const std::string root = dir.str() + "/q";
            if (append_until_full(root, "t", 1) != 1) return 2;
            const std::string segment = root + "/t/00000000000000000000.seg";
            const int fd = ::open(segment.c_str(), O_RDWR);
            if (fd < 0 || ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 65536,
                                      static_cast<off_t>(kBigSegmentBytes - 65536)) != 0) {
              return 3;
            }
            ::close(fd);
            if (!fill_the_disk(dir)) return 4;
            if (!mlops::testing::make_fallocate_unsupported()) return 78;
            const int appended = append_until_full(root, "t");
            return appended >= 0 && appended < 8000 ? 0 : 5;
          }),
      "2-4: setup; 5: no clean error");
}

// Before Linux 5.14 there is no MADV_POPULATE_WRITE either: segments get all their blocks
// when they are made, and a full disk stops the next one being made.
TEST(MmapLogFaults, FullDiskWithoutFallocateOnAnOldKernelIsAnErrorNotASigbus) {
  TempDir dir;
  const auto fill = [&] {
    if (!mlops::testing::make_fallocate_unsupported(mlops::testing::Kernel::kBeforeLinux514)) {
      return 78;
    }
    const int appended = append_until_full(dir.str() + "/q", "t");
    return appended >= 4000 && appended < 8000 ? 0 : 3;  // The first segment is whole.
  };
  expect_exited_with_zero(in_a_small_filesystem(dir, "size=6m", fill),
                          "3: the first segment was not filled, or the disk never");
}

TEST(MmapLogFaults, WithoutFallocateOnAnOldKernelAWriterStillAppends) {
  TempDir dir;
  const int status = in_a_child([&] {
    if (!mlops::testing::make_fallocate_unsupported(mlops::testing::Kernel::kBeforeLinux514)) {
      return 78;
    }
    auto queue = mq::Queue::open(dir.str(), small_segments(kBigSegmentBytes));
    if (!queue) return 2;
    auto log = (*queue)->topic("t");
    if (!log) return 2;
    mq::LogWriter writer(*log);
    const std::string payload(1000, 'p');
    for (int i = 0; i < 6000; ++i) {  // 6 MB: past the first segment's first MiB and into the next.
      if (!writer.append(as_bytes(payload))) return 3;
    }
    mq::LogReader reader(*log, (*log)->earliest());
    int read = 0;
    mlops::testing::read_available(
        reader,
        [&](const mq::LogRecord& record) { read += as_text(record.payload) == payload ? 1 : 0; },
        10s);
    return read == 6000 ? 0 : 4;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "the writer died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "78: seccomp refused the filter; 3: an append failed; 4: not every record read back";
}

// On tmpfs even reading a page without blocks takes one, so on a full tmpfs that read is a
// SIGBUS: a record that ends exactly where its segment's blocks end must not leave the next
// word (which the next append and a reader at the tail read) on such a page.
TEST(MmapLogFaults, RecordEndingWhereTheBlocksEndOnAFullTmpfsIsAnErrorNotASigbus) {
  TempDir dir;
  expect_exited_with_zero(
      in_a_small_filesystem(
          dir, "size=2m",
          [&] {
            auto queue = mq::Queue::open(dir.str() + "/q", small_segments(kBigSegmentBytes));
            if (!queue) return 2;
            auto log = (*queue)->topic("t");
            if (!log) return 2;
            mq::LogWriter writer(*log);
            // The first record ends at 1 KiB, each next one 1 KiB on: the last at exactly
            // kInitialAllocationBytes, where the blocks a new segment gets end.
            if (!writer.append(as_bytes(std::string(1024 - 64 - 16, 'a')))) return 3;
            if (!fill_the_disk(dir)) return 3;
            const std::string payload(1024 - 16, 'p');
            std::uint64_t end = 1024;
            int refused = 0;
            while (end < mq::kInitialAllocationBytes + 4096) {
              if (writer.append(as_bytes(payload))) {
                end += 1024;
              } else if (++refused == 3) {
                break;  // Refused more than once: reading the word at the tail was survived.
              }
            }
            return refused == 3 && end <= mq::kInitialAllocationBytes ? 0 : 4;
          }),
      "4: the disk never filled, or records were written past the blocks");
}

// Several processes making a topic's first segment at once on a filesystem without
// fallocate: one makes it (whole), the others use it; with room for one, each making its
// own would fail them all.
TEST(MmapLogFaults, SegmentMadeByManyAtOnceWithoutFallocateTakesTheRoomOfOne) {
  TempDir dir;
  expect_exited_with_zero(
      in_a_small_filesystem(
          dir, "size=7m",
          [&] {
            if (!mlops::testing::make_fallocate_unsupported()) return 78;
            int start[2];
            if (::pipe(start) != 0) return 2;
            std::vector<pid_t> writers;
            for (int i = 0; i < 4; ++i) {
              const pid_t writer = ::fork();
              if (writer == 0) {
                ::close(start[1]);
                char go = 0;
                (void)::read(start[0], &go, 1);  // Returns when the parent closes its end.
                ::_exit(append_until_full(dir.str() + "/q", "t", 100) == 100 ? 0 : 1);
              }
              writers.push_back(writer);
            }
            ::close(start[0]);
            ::close(start[1]);
            int failed = 0;
            for (const pid_t writer : writers) {
              int status = 0;
              failed += ::waitpid(writer, &status, 0) != writer || !WIFEXITED(status) ||
                        WEXITSTATUS(status) != 0;
            }
            return failed == 0 ? 0 : 3;
          }),
      "3: a writer could not append");
}

// A maker of a new segment holds the topic directory's flock; one that is stuck there (or
// stopped) must not hold up writers whose segment exists already.
TEST(MmapLogFaults, AWriterOfAnExistingSegmentDoesNotWaitForAStuckSegmentMaker) {
  TempDir dir;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    ASSERT_TRUE(writer.append(as_bytes("x")).has_value());
  }
  const int stuck = ::open((dir.str() + "/t").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(stuck, 0);
  ASSERT_EQ(::flock(stuck, LOCK_EX), 0);
  const auto started = std::chrono::steady_clock::now();
  auto log = open_log(dir);  // Another open: it maps segment 0 afresh.
  mq::LogWriter writer(log);
  const auto appended = writer.append(as_bytes("y"));
  const auto waited = std::chrono::steady_clock::now() - started;
  ::close(stuck);
  ASSERT_TRUE(appended.has_value()) << appended.error().message;
  EXPECT_LT(waited, 10s) << "waited for the directory's lock";
}

TEST(MmapLogFaults, SparseSegmentWithoutFallocateIsAllocatedBeforeItIsWritten) {
  TempDir dir;
  const auto settings = small_segments(65536);
  const int fd = sparse_segment(dir, settings);
  ASSERT_GE(fd, 0);
  const int status = in_a_child([&] {
    if (!mlops::testing::make_fallocate_unsupported()) return 78;
    if (::fallocate(fd, 0, 0, 4096) == 0 || errno != EOPNOTSUPP) return 79;
    auto log = open_log(dir, settings);
    mq::LogWriter writer(log);
    if (!writer.append(as_bytes("y"))) return 2;
    struct stat after {};
    if (::fstat(fd, &after) != 0) return 3;
    return after.st_blocks * 512 >= 65536 ? 0 : 4;
  });
  ::close(fd);
  ASSERT_TRUE(WIFEXITED(status)) << "the writer died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "78: no seccomp; 79: fallocate still works; 4: written without its blocks";
}

TEST(MmapLogFaults, StaleTemporaryFilesOfKilledCreatorsAreRemoved) {
  TempDir dir;
  { open_log(dir); }
  const std::string stale = dir.str() + "/t/.00000000000000000007.seg.tmp.dead";
  const std::string young = dir.str() + "/t/.00000000000000000008.seg.tmp.busy";
  std::fclose(std::fopen(stale.c_str(), "w"));
  std::fclose(std::fopen(young.c_str(), "w"));
  const timespec old_times[2] = {{0, UTIME_OMIT}, {std::time(nullptr) - 3600, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, stale.c_str(), old_times, 0), 0);
  auto log = open_log(dir);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(young)) << "a creator may still be writing it";
}

TEST(MmapLogFaults, GroupNameOf249CharactersFits) {
  TempDir dir;
  auto log = open_log(dir);
  const std::string group(249, 'g');
  auto cursor = mlops::testing::open_cursor(*log, group);
  ASSERT_TRUE(cursor.has_value()) << cursor.error().message;
  ASSERT_TRUE(cursor->commit(4096 + 64, false).has_value());
  EXPECT_EQ(cursor->committed(), 4096U + 64);
}

TEST(MmapLogFaults, FilesAreCreatedForTheOwnerOnly) {
  TempDir dir;
  auto log = open_log(dir);
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("x")).has_value());
  auto mode_of = [](const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
  };
  EXPECT_EQ(mode_of(dir.str() + "/t"), 0700U);
  EXPECT_EQ(mode_of(dir.str() + "/t/groups"), 0700U);
  EXPECT_EQ(mode_of(dir.str() + "/t/control"), 0600U);
  EXPECT_EQ(mode_of(segment_path(dir, 0)), 0600U);
}

// attack6 F3: a segment file cut short (truncate -s) lost all of its records, not only
// those past the cut, silently; and a listing wrote a repair into the control block.
namespace {

// Writes "r0".."r29" into segment 0, then cuts its file inside record 10 (its header kept,
// its payload cut): records 0 to 9 are whole, the rest is gone.
void write_and_cut(const TempDir& dir) {
  std::uint64_t cut = 0;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    for (int i = 0; i < 30; ++i) {
      const auto position = writer.append(as_bytes("record-" + std::to_string(100 + i)));
      ASSERT_TRUE(position.has_value()) << position.error().message;
      if (i == 10) cut = *position % 4096 + sizeof(std::uint64_t) + 4;
    }
    ASSERT_TRUE(writer.sync().has_value());
    ASSERT_EQ(log->latest() / 4096, 0U) << "the test needs every record in segment 0";
  }
  ASSERT_EQ(::truncate(segment_path(dir, 0).c_str(), static_cast<off_t>(cut)), 0);
}

std::vector<std::string> first_ten() {
  std::vector<std::string> texts;
  texts.reserve(10);
  for (int i = 0; i < 10; ++i) texts.push_back("record-" + std::to_string(100 + i));
  return texts;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(MmapLogFaults, TruncatedSegmentKeepsItsWholeRecordsAndTakesNewOnesAfterIt) {
  TempDir dir;
  write_and_cut(dir);
  const auto cut_size = fs::file_size(segment_path(dir, 0));
  auto log = open_log(dir);
  EXPECT_GE(log->latest(), mq::first_position(1, 4096)) << "nothing is written into a cut file";
  mq::LogWriter writer(log);
  const auto after = writer.append(as_bytes("after"));
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_GE(*after, mq::first_position(1, 4096));
  const auto synced = writer.sync();
  EXPECT_TRUE(synced.has_value()) << "a flush after the cut segment: " << synced.error().message;
  EXPECT_EQ(fs::file_size(segment_path(dir, 0)), cut_size) << "the cut file was written";

  auto expected = first_ten();
  expected.emplace_back("after");
  const auto read = read_everything(log);
  EXPECT_EQ(read.texts, expected) << "the records before the cut are delivered, then the new one";
  EXPECT_GE(read.damaged, 1U) << "what the cut lost is reported";
}

TEST(MmapLogFaults, ReadOnlyOpenOfATruncatedSegmentReadsItAndWritesNothing) {
  TempDir dir;
  write_and_cut(dir);
  const std::string control = dir.str() + "/t/control";
  const std::string before = file_bytes(control);
  const auto segment_size = fs::file_size(segment_path(dir, 0));
  auto queue = mq::Queue::open(dir.str(), small_segments());
  ASSERT_TRUE(queue.has_value()) << queue.error().message;
  auto log = (*queue)->topic_to_read("t");
  ASSERT_TRUE(log.has_value()) << log.error().message;
  const auto read = read_everything(*log);
  EXPECT_EQ(read.texts, first_ten());
  EXPECT_GE(read.damaged, 1U);
  EXPECT_TRUE(file_bytes(control) == before) << "looking at the topic changed its control file";
  EXPECT_EQ(fs::file_size(segment_path(dir, 0)), segment_size);

  auto missing = (*queue)->topic_to_read("nothing");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, mlops::ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.str() + "/nothing")) << "a read created the topic";
}

TEST(MmapLogFaults, ReadOnlyOpenOfADamagedControlHeaderReadsAndWritesNothing) {
  TempDir dir;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    ASSERT_TRUE(writer.append(as_bytes("kept")).has_value());
  }
  const std::string control = dir.str() + "/t/control";
  zero_range(control, offsetof(mq::ControlBlock, segment_bytes), 8);  // header CRC now wrong
  const std::string before = file_bytes(control);
  auto queue = mq::Queue::open(dir.str(), small_segments(8192));  // not what the topic has
  ASSERT_TRUE(queue.has_value()) << queue.error().message;
  auto log = (*queue)->topic_to_read("t");
  ASSERT_TRUE(log.has_value()) << log.error().message;
  EXPECT_EQ((*log)->segment_bytes(), 4096U) << "the size the segments give";
  EXPECT_EQ(read_everything(*log).texts, std::vector<std::string>{"kept"});
  EXPECT_TRUE(file_bytes(control) == before) << "looking at the topic repaired its control file";
}

// attack7 F1: a control file cut short (truncate -s, magic intact) made the topic unusable
// ("is 100 bytes; expected 4096") for writers, readers and listings, while the same file
// zero-extended was repaired.
namespace {

constexpr off_t kShortControlBytes = 100;  // magic and header kept, positions cut

std::vector<std::string> write_records_and_cut_control(const TempDir& dir, off_t control_bytes) {
  std::vector<std::string> texts;
  {
    auto log = open_log(dir);
    mq::LogWriter writer(log);
    for (int i = 0; i < 150; ++i) {  // past segment 0: the tail must be found by walking
      texts.push_back("record-" + std::to_string(100 + i));
      EXPECT_TRUE(writer.append(as_bytes(texts.back())).has_value());
    }
    EXPECT_TRUE(writer.sync().has_value());
    EXPECT_GE(log->latest() / 4096, 1U) << "the test needs records in more than one segment";
  }
  EXPECT_EQ(::truncate((dir.str() + "/t/control").c_str(), control_bytes), 0);
  return texts;
}

// Collects the library's log lines while alive.
class LogLines {
 public:
  LogLines() {
    mlops::set_log_handler([](mlops::LogLevel, std::string_view line) {
      const std::lock_guard lock(mutex());
      lines().emplace_back(line);
    });
  }
  ~LogLines() { mlops::set_log_handler({}); }
  LogLines(const LogLines&) = delete;
  LogLines& operator=(const LogLines&) = delete;
  bool any_with(const std::string& a, const std::string& b) const {
    const std::lock_guard lock(mutex());
    return std::any_of(lines().begin(), lines().end(), [&](const std::string& line) {
      return line.find(a) != std::string::npos && line.find(b) != std::string::npos;
    });
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::vector<std::string>& lines() {
    static std::vector<std::string> l;
    return l;
  }
};

}  // namespace

TEST(MmapLogFaults, TruncatedControlFileIsRestoredByAWriterWithEveryRecord) {
  TempDir dir;
  auto texts = write_records_and_cut_control(dir, kShortControlBytes);
  const std::string control = dir.str() + "/t/control";
  std::shared_ptr<mq::TopicLog> log;
  {
    const LogLines lines;
    log = open_log(dir);
    ASSERT_NE(log, nullptr);
    EXPECT_TRUE(lines.any_with(control, "cut short")) << "the repair is not reported";
  }
  EXPECT_EQ(fs::file_size(control), 4096U);
  mq::LogWriter writer(log);
  const auto after = writer.append(as_bytes("after"));
  ASSERT_TRUE(after.has_value()) << after.error().message;
  texts.emplace_back("after");
  EXPECT_EQ(read_everything(log).texts, texts) << "the records before the cut, then the new one";
}

TEST(MmapLogFaults, ReadOnlyOpenOfATruncatedControlFileReadsAndWritesNothing) {
  TempDir dir;
  const auto texts = write_records_and_cut_control(dir, kShortControlBytes);
  const std::string control = dir.str() + "/t/control";
  const std::string before = file_bytes(control);
  auto queue = mq::Queue::open(dir.str(), small_segments());
  ASSERT_TRUE(queue.has_value()) << queue.error().message;
  auto log = (*queue)->topic_to_read("t");
  ASSERT_TRUE(log.has_value()) << log.error().message;
  EXPECT_EQ(read_everything(*log).texts, texts);
  EXPECT_TRUE(file_bytes(control) == before) << "looking at the topic changed its control file";
}

TEST(MmapLogFaults, ControlFileCutInsideItsMagicIsRefusedAndLeftAlone) {
  TempDir dir;
  write_records_and_cut_control(dir, 4);
  const std::string control = dir.str() + "/t/control";
  auto queue = mq::Queue::open(dir.str(), small_segments());
  ASSERT_TRUE(queue.has_value()) << queue.error().message;
  auto log = (*queue)->topic("t");
  ASSERT_FALSE(log.has_value())
      << "a file that no longer says what it is was taken as a control file";
  EXPECT_EQ(log.error().code, mlops::ErrorCode::kCorrupt);
  EXPECT_EQ(fs::file_size(control), 4U) << "a refused file was changed";
}

// attack7 F8: a segment cut at or past the tail was reported as bytes "missing and lost",
// though no record had been written there.
TEST(MmapLogFaults, SegmentCutAtOrPastTheTailReportsNoLoss) {
  for (const bool at_tail : {true, false}) {
    TempDir dir;
    std::vector<std::string> texts;
    std::uint64_t tail_offset = 0;
    {
      auto log = open_log(dir);
      mq::LogWriter writer(log);
      for (int i = 0; i < 10; ++i) {
        texts.push_back("record-" + std::to_string(100 + i));
        ASSERT_TRUE(writer.append(as_bytes(texts.back())).has_value());
      }
      ASSERT_TRUE(writer.sync().has_value());
      tail_offset = log->latest() % 4096;
      ASSERT_LT(tail_offset + 8, 4096U) << "the test needs room past the tail";
    }
    const auto cut = at_tail ? tail_offset : tail_offset + 8;
    ASSERT_EQ(::truncate(segment_path(dir, 0).c_str(), static_cast<off_t>(cut)), 0);
    auto queue = mq::Queue::open(dir.str(), small_segments());
    ASSERT_TRUE(queue.has_value()) << queue.error().message;
    auto log = (*queue)->topic_to_read("t");
    ASSERT_TRUE(log.has_value()) << log.error().message;
    const auto read = read_everything(*log);
    EXPECT_EQ(read.texts, texts) << "cut at " << cut;
    EXPECT_EQ(read.damaged, 0U) << "a loss reported for a cut at " << cut << ", the tail at "
                                << tail_offset;
  }
}
