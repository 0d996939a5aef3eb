// The mmap backend through the public API, across processes: what the shared semantics
// suite cannot show from one process.
#include <gtest/gtest.h>
#include <mlops/orchestration.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "support/mmap_test_support.h"

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string queue_uri(const mlops::testing::TempDir& dir) {
  return "mmap://" + dir.str() + "?segment_bytes=65536&populate=false";
}

mes::MLOpsMessage numbered(std::int64_t n, std::int64_t writer = 0) {
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::INPROGRESS)
      .with_user_msg("message " + std::to_string(n))
      .with_additional_argument("n", n)
      .with_additional_argument("writer", writer)
      .build();
}

std::int64_t arg(const mes::MLOpsMessage& msg, std::string_view key) {
  return msg.additional_argument(key)->as_int().value_or(-1);
}

// Receives until `count` messages arrived or `timeout` passed.
std::vector<mes::MLOpsMessage> receive_n(orc::Consumer& consumer, std::size_t count,
                                         std::chrono::milliseconds timeout = 10s) {
  std::vector<mes::MLOpsMessage> all;
  const auto deadline = Clock::now() + timeout;
  while (all.size() < count && Clock::now() < deadline) {
    for (auto& msg : consumer.receive({}, 100ms, count - all.size())) all.push_back(std::move(msg));
  }
  return all;
}

// Forks `body` as a child process; the child's exit code is what body returns.
template <typename Body>
pid_t fork_child(Body body) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(body());
  return child;
}

int wait_exit_code(pid_t child) {
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(MmapBackend, ProducersAndConsumersInSeparateProcesses) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  constexpr int kWriters = 2;
  constexpr int kEach = 2000;
  // Consumers first, in two groups; each is its own process and checks what it saw.
  std::vector<pid_t> consumers;
  for (const char* group : {"train", "monitor"}) {
    consumers.push_back(fork_child([&] {
      auto orch = orc::Orchestration::from_uri(uri);
      if (!orch) return 10;
      auto consumer = orc::Consumer::create("jobs", *orch, {.group = group});
      if (!consumer) return 11;
      std::vector<std::int64_t> next(kWriters, 0);
      const auto all = receive_n(*consumer, kWriters * kEach, 30s);
      for (const auto& msg : all) {
        const auto writer = arg(msg, "writer");
        if (writer < 0 || writer >= kWriters) return 12;
        if (arg(msg, "n") != next[static_cast<std::size_t>(writer)]++)
          return 13;  // Per-writer order.
      }
      if (consumer->commit() != orc::Status::kOk) return 14;
      return all.size() == static_cast<std::size_t>(kWriters * kEach) ? 0 : 15;
    }));
  }
  std::vector<pid_t> producers;
  for (int w = 0; w < kWriters; ++w) {
    producers.push_back(fork_child([&, w] {
      auto orch = orc::Orchestration::from_uri(uri);
      if (!orch) return 20;
      auto producer = orc::Producer::create(*orch, "jobs");
      if (!producer) return 21;
      for (int i = 0; i < kEach; ++i) {
        if (producer->send(numbered(i, w)) != orc::Status::kOk) return 22;
      }
      return producer->flush(5s) == orc::Status::kOk ? 0 : 23;
    }));
  }
  for (const pid_t child : producers) EXPECT_EQ(wait_exit_code(child), 0) << "producer";
  for (const pid_t child : consumers) EXPECT_EQ(wait_exit_code(child), 0) << "consumer";
}

TEST(MmapBackend, ConsumerKilledBetweenReceiveAndCommitGetsItsMessagesAgain) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  {
    auto orch = orc::Orchestration::from_uri(uri).value();
    auto producer = orc::Producer::create(orch, "work").value();
    for (int i = 0; i < 30; ++i) ASSERT_EQ(producer.send(numbered(i)), orc::Status::kOk);
  }
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = fork_child([&] {
    auto orch = orc::Orchestration::from_uri(uri);
    auto consumer = orc::Consumer::create("work", *orch, {.group = "stage", .auto_commit = false});
    if (!consumer) return 1;
    if (receive_n(*consumer, 10).size() != 10) return 2;
    if (consumer->commit() != orc::Status::kOk) return 3;  // 0..9 processed.
    if (receive_n(*consumer, 5).size() != 5) return 4;     // 10..14 received, not committed.
    const char byte = 'r';
    (void)!::write(ready[1], &byte, 1);
    ::pause();  // Killed here, between receive and commit.
    return 5;
  });
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::kill(child, SIGKILL);
  EXPECT_EQ(wait_exit_code(child), 128 + SIGKILL);
  ::close(ready[0]);
  ::close(ready[1]);

  // The group's next consumer takes over the dead one's lock and gets 10.. again.
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto consumer =
      orc::Consumer::create("work", orch, {.group = "stage", .auto_commit = false}).value();
  const auto again = receive_n(consumer, 20);
  ASSERT_EQ(again.size(), 20U);
  for (std::size_t i = 0; i < again.size(); ++i)
    EXPECT_EQ(arg(again[i], "n"), static_cast<std::int64_t>(10 + i));
}

TEST(MmapBackend, GroupsResumeFromTheirCursorsAcrossRestarts) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  for (int round = 0; round < 3; ++round) {
    auto orch = orc::Orchestration::from_uri(uri).value();  // As a restarted process would.
    auto producer = orc::Producer::create(orch, "rounds").value();
    for (int i = 0; i < 10; ++i)
      ASSERT_EQ(producer.send(numbered(round * 10 + i)), orc::Status::kOk);
    auto consumer = orc::Consumer::create("rounds", orch, {.group = "g"}).value();
    const auto got = receive_n(consumer, 10);
    ASSERT_EQ(got.size(), 10U);
    EXPECT_EQ(arg(got.front(), "n"), round * 10) << "round " << round << " resumed elsewhere";
    EXPECT_EQ(consumer.commit(), orc::Status::kOk);
    EXPECT_TRUE(consumer.receive(50ms).empty());
  }
}

TEST(MmapBackend, ReceiveWakesPromptlyWhenAnotherProcessPublishes) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto consumer = orc::Consumer::create("ping", orch, {.group = "g"}).value();
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = fork_child([&] {
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) return 1;
    auto child_orch = orc::Orchestration::from_uri(uri);
    auto producer = orc::Producer::create(*child_orch, "ping");
    return producer && producer->send(numbered(1)) == orc::Status::kOk ? 0 : 2;
  });
  const auto start = Clock::now();
  const char byte = 'g';
  ASSERT_EQ(::write(go[1], &byte, 1), 1);
  const auto got = consumer.receive({}, 10s, 1);  // Blocks; the publish must wake it.
  const auto waited = Clock::now() - start;
  EXPECT_EQ(wait_exit_code(child), 0);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_LT(waited, 5s) << "the wait ran to its deadline instead of waking";
  ::close(go[0]);
  ::close(go[1]);
}

TEST(MmapBackend, FlushAndSendWithFlushSucceed) {
  mlops::testing::TempDir dir;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto producer = orc::Producer::create(orch, "durable").value();
  ASSERT_EQ(producer.send(numbered(1), true), orc::Status::kOk);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(producer.send(numbered(i)), orc::Status::kOk);
  EXPECT_EQ(producer.flush(5s), orc::Status::kOk);
  EXPECT_EQ(producer.close(), orc::Status::kOk);
}

TEST(MmapBackend, TooLargeAndBadOptionsSayWhy) {
  mlops::testing::TempDir dir;
  auto orch = orc::Orchestration::from_uri("mmap://" + dir.str() + "?max_message_bytes=64").value();
  auto producer = orc::Producer::create(orch, "small").value();
  EXPECT_EQ(producer.send(numbered(1)), orc::Status::kTooLarge);
  auto bad = orc::Orchestration::from_uri("mmap://" + dir.str() + "?segment_bytes=lots");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("segment_bytes"), std::string::npos) << bad.error().message;
  auto tiny = orc::Orchestration::from_uri("mmap://" + dir.str() + "/tiny?segment_bytes=100");
  ASSERT_FALSE(tiny.has_value()) << "refused when opened, not at the first send";
  EXPECT_NE(tiny.error().message.find("4096"), std::string::npos) << tiny.error().message;
  auto unwritable = orc::Orchestration::from_uri("mmap:///proc/no-such-queue");
  ASSERT_FALSE(unwritable.has_value());
  EXPECT_FALSE(unwritable.error().message.empty());
}

namespace {

// Bytes allocated on disk (st_blocks) by every file under `dir`.
std::uint64_t allocated_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    struct stat info {};
    if (::lstat(entry.path().c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
      total += static_cast<std::uint64_t>(info.st_blocks) * 512;
    }
  }
  return total;
}

}  // namespace

TEST(MmapBackend, NewTopicWithOneSmallMessageAllocatesAtMostFourMiB) {
  mlops::testing::TempDir dir;
  {
    // Default segments (64 MiB) and populate on: what a user gets.
    auto orch = orc::Orchestration::from_uri("mmap://" + dir.str()).value();
    auto producer = orc::Producer::create(orch, "small").value();
    ASSERT_EQ(producer.send(numbered(1)), orc::Status::kOk);
    ASSERT_EQ(producer.flush(5s), orc::Status::kOk);
    auto consumer = orc::Consumer::create("small", orch, {.group = "g"}).value();
    ASSERT_EQ(receive_n(consumer, 1).size(), 1U);
    ASSERT_EQ(consumer.commit(), orc::Status::kOk);
  }  // Closed: the segment preparer has finished what it was asked.
  const auto bytes = allocated_bytes(dir.path());
  EXPECT_LE(bytes, std::uint64_t{4} << 20)
      << "a topic with one message takes " << bytes << " bytes";
  EXPECT_GT(bytes, 0U);
}

TEST(MmapBackend, SegmentBlocksGrowWithTheTopicAndStopAtTheSegment) {
  mlops::testing::TempDir dir;
  const std::uint64_t segment = std::uint64_t{16} << 20;
  auto orch = orc::Orchestration::from_uri("mmap://" + dir.str() +
                                           "?segment_bytes=" + std::to_string(segment))
                  .value();
  auto producer = orc::Producer::create(orch, "busy").value();
  const auto payload = mes::MessageBuilder().with_user_msg(std::string(1000, 'x')).build();
  const auto segment_file = dir.path() / "busy" / "00000000000000000000.seg";
  int sent = 0;
  // 3 MiB, then 12 MiB in all (within segment 0), then 20 MiB (into segment 1).
  for (const int total : {3000, 12000, 20000}) {
    for (; sent < total; ++sent) ASSERT_EQ(producer.send(payload), orc::Status::kOk);
    struct stat info {};
    ASSERT_EQ(::stat(segment_file.c_str(), &info), 0);
    const auto blocks = static_cast<std::uint64_t>(info.st_blocks) * 512;
    EXPECT_GE(blocks, std::min<std::uint64_t>(static_cast<std::uint64_t>(total) * 1000, segment))
        << "written without its blocks";
    // Ahead of the writer: its blocks doubled at most once more, and the preparer's three
    // chunks (each no larger than what the segment holds, at most 4 MiB).
    const std::uint64_t written = static_cast<std::uint64_t>(total) * 1000;
    if (written < segment / 4) {
      EXPECT_LE(blocks, 4 * written + (std::uint64_t{1} << 20))
          << "allocated far ahead of the writer";
    }
    EXPECT_LE(blocks, segment + 4096) << "more than the segment";
  }
}
