// The mmap topic log on its own: order, segments, damage, dead writers, cursors, retention.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "orchestration/mmap/crash_points.h"
#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/log_writer.h"
#include "support/mmap_test_support.h"

namespace mq = mlops::orchestration::detail::mmap;
using namespace std::chrono_literals;
using mlops::testing::as_bytes;
using mlops::testing::as_text;
using mlops::testing::small_segments;
using mlops::testing::TempDir;

namespace {

std::shared_ptr<mq::TopicLog> open_topic(const std::shared_ptr<mq::Queue>& queue,
                                         const std::string& name = "t") {
  auto log = queue->topic(name);
  EXPECT_TRUE(log.has_value()) << log.error().message;
  return *log;
}

std::shared_ptr<mq::Queue> open_queue(const TempDir& dir,
                                      mq::QueueSettings settings = small_segments()) {
  auto queue = mq::Queue::open(dir.str(), settings);
  EXPECT_TRUE(queue.has_value()) << queue.error().message;
  return *queue;
}

// Reads every record from `from` (0: the earliest). `keep` receives the reader, for its
// counters; it lives in the test's scope, so the log is gone before the test's directory.
std::vector<std::string> read_all(const std::shared_ptr<mq::TopicLog>& log, std::uint64_t from = 0,
                                  std::unique_ptr<mq::LogReader>* keep = nullptr) {
  auto reader = std::make_unique<mq::LogReader>(log, from == 0 ? log->earliest() : from);
  std::vector<std::string> out;
  mlops::testing::read_available(
      *reader, [&](const mq::LogRecord& record) { out.push_back(as_text(record.payload)); });
  if (keep) *keep = std::move(reader);
  return out;
}

std::string segment_file(const TempDir& dir, int index) {
  char name[32];
  std::snprintf(name, sizeof name, "%020d.seg", index);
  return dir.str() + "/t/" + name;
}

}  // namespace

TEST(MmapLog, AppendsReadBackInOrder) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  std::vector<std::string> sent;
  for (int i = 0; i < 100; ++i) {
    sent.push_back("message-" + std::to_string(i) +
                   std::string(static_cast<std::size_t>(i % 37), 'x'));
    ASSERT_TRUE(writer.append(as_bytes(sent.back())).has_value());
  }
  EXPECT_EQ(read_all(log), sent);
}

TEST(MmapLog, EmptyPayloadIsARecordToo) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(std::span<const std::uint8_t>()).has_value());
  ASSERT_TRUE(writer.append(as_bytes("after")).has_value());
  EXPECT_EQ(read_all(log), (std::vector<std::string>{"", "after"}));
}

TEST(MmapLog, RecordsRollAcrossManySegments) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  std::vector<std::string> sent;
  for (int i = 0; i < 2000; ++i) {
    sent.push_back(std::to_string(i) + std::string(static_cast<std::size_t>(i % 300), 'p'));
    ASSERT_TRUE(writer.append(as_bytes(sent.back())).has_value());
  }
  EXPECT_EQ(read_all(log), sent);
  EXPECT_TRUE(std::filesystem::exists(segment_file(dir, 20))) << "many 4 KiB segments";
}

TEST(MmapLog, PayloadsAreEightByteAlignedInPlace) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(writer.append(as_bytes(std::string(static_cast<std::size_t>(i), 'a'))).has_value());
  mq::LogReader reader(log, log->earliest());
  mq::LogRecord record;
  while (reader.next(record)) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(record.payload.data()) % 8, 0U);
  }
}

TEST(MmapLog, TooLargeIsRefusedAndLargestFits) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  const std::string largest(writer.max_payload_bytes(), 'L');
  ASSERT_TRUE(writer.append(as_bytes(largest)).has_value());
  auto too_large = writer.append(as_bytes(largest + "!"));
  ASSERT_FALSE(too_large.has_value());
  EXPECT_EQ(too_large.error().code, mlops::ErrorCode::kTooLarge);
  EXPECT_EQ(read_all(log), std::vector<std::string>{largest});
}

TEST(MmapLog, ReaderStopsAtTheEndAndResumes) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  mq::LogReader reader(log, log->earliest());
  mq::LogRecord record;
  EXPECT_FALSE(reader.next(record));
  ASSERT_TRUE(writer.append(as_bytes("one")).has_value());
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(as_text(record.payload), "one");
  EXPECT_FALSE(reader.next(record));
}

// A reader maps the pages ahead of it in bulk (LogReader::map_ahead, a hint): reading
// across segments, following the tail record by record, and seeking back into a segment it
// had left or forward past pages it never mapped must all give exactly what was written.
TEST(MmapLog, ReadsStayExactAcrossSegmentsTailAndSeeks) {
  TempDir dir;
  constexpr std::uint64_t kSegment = std::uint64_t{1} << 20;
  auto log = open_topic(open_queue(dir, small_segments(kSegment)));
  mq::LogWriter writer(log);
  std::vector<std::string> sent;
  std::vector<std::uint64_t> positions;
  for (int i = 0; i < 2000; ++i) {  // About 4 MiB: four segments and a bit.
    sent.push_back(std::to_string(i) + std::string(2000, static_cast<char>('a' + i % 26)));
    auto position = writer.append(as_bytes(sent.back()));
    ASSERT_TRUE(position.has_value());
    positions.push_back(*position);
  }
  std::unique_ptr<mq::LogReader> reader;
  ASSERT_EQ(read_all(log, 0, &reader), sent);
  // At the tail: each new record is read as it comes.
  mq::LogRecord record;
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(reader->next(record));
    ASSERT_TRUE(writer.append(as_bytes("late-" + std::to_string(i))).has_value());
    ASSERT_TRUE(reader->next(record));
    EXPECT_EQ(as_text(record.payload), "late-" + std::to_string(i));
  }
  // Back into the first segment, then forward into the middle of the third.
  for (const std::size_t from : {std::size_t{10}, std::size_t{1100}, std::size_t{3}}) {
    reader->seek(positions[from]);
    for (std::size_t i = from; i < from + 300; ++i) {
      ASSERT_TRUE(reader->next(record)) << i;
      ASSERT_EQ(as_text(record.payload), sent[i]) << i;
    }
  }
  EXPECT_EQ(reader->damaged(), 0u);
}

TEST(MmapLog, CorruptPayloadIsSkippedAndCounted) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("first")).has_value());
  ASSERT_TRUE(writer.append(as_bytes("SECOND")).has_value());
  ASSERT_TRUE(writer.append(as_bytes("third")).has_value());
  {  // Flip a bit of the second payload on disk.
    std::fstream file(segment_file(dir, 0), std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes(4096, '\0');
    file.read(bytes.data(), 4096);
    const auto at = bytes.find("SECOND");
    ASSERT_NE(at, std::string::npos);
    file.seekp(static_cast<std::streamoff>(at));
    file.put('Z');
  }
  std::unique_ptr<mq::LogReader> reader;
  EXPECT_EQ(read_all(log, 0, &reader), (std::vector<std::string>{"first", "third"}));
  EXPECT_EQ(reader->damaged(), 1U);
}

TEST(MmapLog, DamagedHeaderWordSkipsTheRestOfItsSegment) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  std::vector<std::string> sent;
  for (int i = 0; i < 60; ++i) {  // Several segments of 100-byte records.
    sent.push_back(std::string(100, static_cast<char>('a' + i % 26)));
    ASSERT_TRUE(writer.append(as_bytes(sent.back())).has_value());
  }
  {  // Garbage in the second record's header word of segment 0.
    std::fstream file(segment_file(dir, 0), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(mq::kFileHeaderBytes + mq::record_bytes(100)));
    const std::uint64_t garbage = 0xFFFFFFFFFFFFFFFFULL;
    file.write(reinterpret_cast<const char*>(&garbage), sizeof garbage);
  }
  std::unique_ptr<mq::LogReader> reader;
  const auto got = read_all(log, 0, &reader);
  EXPECT_EQ(reader->damaged(), 1U);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), sent.front());
  EXPECT_EQ(got.back(), sent.back()) << "later segments still read";
  EXPECT_LT(got.size(), sent.size());
}

TEST(MmapLog, TruncatedOrGarbageSegmentIsSkippedWithAReport) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  for (int i = 0; i < 120; ++i)
    ASSERT_TRUE(writer.append(as_bytes(std::string(100, 'q'))).has_value());
  ASSERT_TRUE(std::filesystem::exists(segment_file(dir, 3)));
  std::filesystem::resize_file(segment_file(dir, 1), 1000);  // Truncated.
  {
    std::fstream file(segment_file(dir, 2), std::ios::in | std::ios::out | std::ios::binary);
    file.write("GARBAGE!", 8);  // A header that is not ours.
  }
  std::unique_ptr<mq::LogReader> reader;
  auto fresh = open_topic(open_queue(dir));  // A new process's view: nothing cached.
  const auto got = read_all(fresh, 0, &reader);
  // The cut (once), the record it went through, the garbage header; the truncated
  // segment's whole records before the cut are still read.
  EXPECT_EQ(reader->damaged(), 3U);
  EXPECT_GT(got.size(), 0U);
  EXPECT_LT(got.size(), 120U);
}

TEST(MmapLog, GarbageControlFileIsAnError) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "t" / "groups");
  std::ofstream(dir.path() / "t" / "control") << std::string(4096, 'x');
  auto queue = open_queue(dir);
  auto log = queue->topic("t");
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code, mlops::ErrorCode::kCorrupt);
}

TEST(MmapLog, DeadWritersClaimIsSkipped) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("before")).has_value());
  for (auto point :
       {mq::CrashPoint::kAfterClaim, mq::CrashPoint::kMidPayload, mq::CrashPoint::kBeforePublish}) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto queue = mq::Queue::open(dir.str(), small_segments());
      mq::LogWriter doomed(*(*queue)->topic("t"));
      mq::arm_crash_point(point, 0);
      (void)doomed.append(mlops::testing::as_bytes(std::string("doomed")));
      ::_exit(3);  // Not reached: the crash point kills the process.
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  ASSERT_TRUE(writer.append(as_bytes("after")).has_value());
  std::unique_ptr<mq::LogReader> reader;
  EXPECT_EQ(read_all(log, 0, &reader), (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(reader->abandoned(), 3U);
  EXPECT_EQ(reader->damaged(), 0U) << "an abandoned claim is not damage";
}

TEST(MmapLog, StalledClaimIsSkippedAfterTheTimeoutAndItsWriterAppendsAgain) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  // A writer that claimed a slot and then stalled: its claim sits pending at the tail.
  const std::uint64_t position = log->latest();
  auto segment = *log->writable_segment(position / log->segment_bytes());
  auto* header = segment->header_at(position % log->segment_bytes());
  const auto claim = mq::make_word(static_cast<std::uint32_t>(mq::record_bytes(5)),
                                   *log->registry().id(), mq::RecordState::kPending);
  header->word.store(claim);
  mq::LogWriter writer(log);
  ASSERT_TRUE(writer.append(as_bytes("next")).has_value());

  mq::LogReader reader(log, log->earliest());
  mq::LogRecord record;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(reader.next(record)) << "waits while the claim is young";
  EXPECT_TRUE(reader.stopped_early());
  const auto deadline = start + std::chrono::seconds(5);
  bool got = false;
  while (!got && std::chrono::steady_clock::now() < deadline) got = reader.next(record);
  ASSERT_TRUE(got);
  EXPECT_GE(std::chrono::steady_clock::now() - start, log->settings().pending_timeout);
  EXPECT_EQ(as_text(record.payload), "next");
  EXPECT_EQ(reader.abandoned(), 1U);
  // The stalled writer's publish now fails, which tells it to append again.
  std::uint64_t expected = claim;
  EXPECT_FALSE(header->word.compare_exchange_strong(
      expected, mq::make_word(static_cast<std::uint32_t>(mq::record_bytes(5)),
                              *log->registry().id(), mq::RecordState::kPublished)));
}

TEST(MmapLog, WritersInSeveralProcessesKeepTheirOwnOrder) {
  TempDir dir;
  constexpr int kWriters = 3;
  constexpr int kEach = 3000;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto queue = mq::Queue::open(dir.str(), small_segments(65536));
      if (!queue) ::_exit(2);
      mq::LogWriter writer(*(*queue)->topic("t"));
      for (int i = 0; i < kEach; ++i) {
        const std::string text = std::to_string(w) + ":" + std::to_string(i);
        if (!writer.append(mlops::testing::as_bytes(text))) ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(child);
  }
  for (const pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto log = open_topic(open_queue(dir, small_segments(65536)));
  std::vector<int> next(kWriters, 0);
  for (const auto& text : read_all(log)) {
    const auto colon = text.find(':');
    const int w = std::stoi(text.substr(0, colon));
    const int i = std::stoi(text.substr(colon + 1));
    ASSERT_EQ(i, next[static_cast<std::size_t>(w)]) << "writer " << w << " out of order";
    ++next[static_cast<std::size_t>(w)];
  }
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(next[static_cast<std::size_t>(w)], kEach);
}

TEST(MmapLog, ThreadsAppendingConcurrentlyLoseNothing) {
  TempDir dir;
  auto log = open_topic(open_queue(dir, small_segments(16384)));
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      mq::LogWriter writer(log);
      for (int i = 0; i < kEach; ++i) {
        const auto text = std::to_string(t) + ":" + std::to_string(i);
        ASSERT_TRUE(writer.append(as_bytes(text)).has_value());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto all = read_all(log);
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
}

TEST(MmapGroupCursor, CommitSurvivesReopenAndEveryMemberOpensTheGroup) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  {
    auto cursor = mlops::testing::open_cursor(*log, "train");
    ASSERT_TRUE(cursor.has_value()) << cursor.error().message;
    EXPECT_FALSE(cursor->committed().has_value());
    auto second = mlops::testing::open_cursor(*log, "train");
    ASSERT_TRUE(second.has_value()) << "members of one group share its file";
    EXPECT_TRUE(mlops::testing::open_cursor(*log, "evaluate").has_value());
    ASSERT_TRUE(cursor->commit(12345, true).has_value());
    EXPECT_EQ(second->committed(), 12345U);
  }
  auto reopened = mlops::testing::open_cursor(*log, "train");
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ(reopened->committed(), 12345U);
  EXPECT_EQ(mq::lowest_committed(log->groups()), 0U) << "'evaluate' never committed";
  EXPECT_FALSE(mlops::testing::open_cursor(*log, "../escape").has_value());
}

TEST(MmapGroupCursor, LockIsExclusiveBoundedAndFreedByItsHoldersDeath) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto cursor = mlops::testing::open_cursor(*log, "g");
    const bool held = cursor && cursor->lock_until(std::chrono::steady_clock::now() + 5s);
    const char byte = held ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    ::pause();  // Holds the lock until killed.
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  auto cursor = mlops::testing::open_cursor(*log, "g");
  ASSERT_TRUE(cursor.has_value());
  const auto tried = std::chrono::steady_clock::now();
  EXPECT_FALSE(cursor->lock_until(tried + 50ms)) << "held by the child";
  EXPECT_LT(std::chrono::steady_clock::now() - tried, 2s) << "gave up at its deadline";
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(cursor->lock_until(std::chrono::steady_clock::now() + 5s)) << "freed by the kernel";
  cursor->unlock();
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(MmapGroupCursor, DamagedCursorFallsBackToTheStartNotPastIt) {
  TempDir dir;
  auto log = open_topic(open_queue(dir));
  std::ofstream(log->directory() + "/groups/g.cursor") << "this is not a cursor record at all";
  auto cursor = mlops::testing::open_cursor(*log, "g");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_FALSE(cursor->committed().has_value());
}

TEST(MmapRetention, DeletesOnlyWhatEveryGroupHasConsumed) {
  TempDir dir;
  auto settings = small_segments();
  settings.log.retention_bytes = 4096 * 2;  // Keep about two segments.
  auto log = open_topic(open_queue(dir, settings));
  auto fast = mlops::testing::open_cursor(*log, "fast");
  auto slow = mlops::testing::open_cursor(*log, "slow");
  ASSERT_TRUE(fast && slow);
  ASSERT_TRUE(slow->commit(log->earliest(), false));
  mq::LogWriter writer(log);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(writer.append(as_bytes(std::string(100, 'r'))).has_value());
  ASSERT_TRUE(fast->commit(log->latest(), false));
  EXPECT_TRUE(std::filesystem::exists(segment_file(dir, 0))) << "'slow' still needs segment 0";

  ASSERT_TRUE(slow->commit(log->latest(), false));
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(writer.append(as_bytes(std::string(100, 's'))).has_value());
  EXPECT_FALSE(std::filesystem::exists(segment_file(dir, 0))) << "consumed by every group";
  EXPECT_GT(log->control().first_segment.load(), 0U);
  // A reader that was behind jumps to what is left, counting what it lost.
  std::unique_ptr<mq::LogReader> reader;
  const auto left = read_all(log, mq::first_position(0, 4096), &reader);
  EXPECT_GT(left.size(), 0U);
  EXPECT_EQ(reader->lost_to_retention(), 1U);
}
