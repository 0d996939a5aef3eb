// Regression tests for the faults an adversarial review found in the mmap backend
// (issue 12), through the public API and across processes, each named after the fault:
// a failed subscribe, fork, links planted in the queue, read-only consumer mappings,
// a consumer killed asleep, dirty page cache, options.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mlops/log.h>
#include <mlops/orchestration.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/log_writer.h"
#include "support/mmap_test_support.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MLOPS_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MLOPS_SANITIZED_ALLOCATOR 1
#endif
#ifndef MLOPS_SANITIZED_ALLOCATOR
#define MLOPS_SANITIZED_ALLOCATOR 0
#endif

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
namespace mq = mlops::orchestration::detail::mmap;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using mlops::testing::TempDir;

namespace {

std::string queue_uri(const TempDir& dir, const std::string& extra = "") {
  return "mmap://" + dir.str() + "?segment_bytes=65536&populate=false" + extra;
}

mes::MLOpsMessage text_message(const std::string& text) {
  return mes::MessageBuilder().with_user_msg(text).build();
}

std::vector<std::string> receive_texts(orc::Consumer& consumer, std::size_t count,
                                       std::chrono::milliseconds timeout = 10s) {
  std::vector<std::string> texts;
  const auto deadline = Clock::now() + timeout;
  while (texts.size() < count && Clock::now() < deadline) {
    for (const auto& msg : consumer.receive({}, 100ms, count - texts.size())) {
      texts.emplace_back(msg.user_message().value_or(""));
    }
  }
  return texts;
}

// Runs `body` in a child with a deadline; its exit code, 128 + signal if killed, or -1 if
// it had to be killed at the deadline.
template <typename Body>
int run_child(Body body, std::chrono::seconds deadline = 20s) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(body());
  const auto give_up = Clock::now() + deadline;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (Clock::now() >= give_up) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(1ms);  // Polling a child's exit, bounded by the deadline.
  }
}

}  // namespace

TEST(MmapBackendFaults, FailedSubscribeLeavesTheConsumerAsItWas) {
  TempDir dir;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto producer = orc::Producer::create(orch).value();
  auto consumer = orc::Consumer::create("a", orch, {.group = "g", .auto_commit = false}).value();
  ASSERT_EQ(producer.send(mes::MessageBuilder().with_user_msg("on a").with_topic("a").build()),
            orc::Status::kOk);
  EXPECT_EQ(receive_texts(consumer, 1), (std::vector<std::string>{"on a"}));  // Held, uncommitted.
  // Group g of topic b cannot be joined: its file is a planted link, never followed.
  auto other = orc::Consumer::create("b", orch, {.group = "h"}).value();  // Makes b's groups/.
  fs::create_symlink(dir.path() / "elsewhere", fs::path(dir.str()) / "b" / "groups" / "g");
  auto failed = consumer.subscribe(std::vector<std::string>{"a", "b"});
  ASSERT_FALSE(failed.has_value()) << "group g of topic b is a link";
  EXPECT_EQ(consumer.subscriptions(), (std::vector<std::string>{"a"}));
  auto third = orc::Consumer::create("a", orch, {.group = "g"}).value();
  EXPECT_TRUE(third.receive(50ms).empty()) << "the kept topic's claim was released";
  ASSERT_EQ(producer.send(mes::MessageBuilder().with_user_msg("next").with_topic("a").build()),
            orc::Status::kOk);
  EXPECT_EQ(consumer.commit(), orc::Status::kOk);
  EXPECT_EQ(receive_texts(consumer, 1), (std::vector<std::string>{"next"}));  // No crash.
}

TEST(MmapBackendFaults, ChildForkedWhileThePreparerWorksDoesNotHang) {
#if MLOPS_SANITIZED_ALLOCATOR
  GTEST_SKIP()
      << "the sanitizers' allocators (clang 14) are not fork-safe while another thread "
         "allocates: a child blocks in the allocator's own lock; the Release build runs this";
#endif
  TempDir dir;
  const std::string uri = "mmap://" + dir.str() + "?segment_bytes=1048576&populate=true";
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto producer = orc::Producer::create(orch, "busy").value();
  std::atomic<bool> stop{false};
  // Rolls a 1 MiB segment every few thousand sends: the preparer is always at work.
  std::thread streaming([&] {
    const auto message = mes::MessageBuilder().with_user_msg(std::string(400, 'x')).build();
    while (!stop.load()) (void)producer.send(message);
  });
  int hung = 0;
  int failed = 0;
  for (int i = 0; i < 10; ++i) {
    const int code = run_child([&] {
      auto child_producer = orc::Producer::create(orch, "busy");  // The inherited queue.
      if (!child_producer) return 2;
      for (int n = 0; n < 200; ++n) {
        if (child_producer->send(text_message("child")) != orc::Status::kOk) return 3;
      }
      return child_producer->flush(5s) == orc::Status::kOk ? 0 : 4;
    });
    hung += code == -1 ? 1 : 0;
    failed += code > 0 ? 1 : 0;
  }
  stop.store(true);
  streaming.join();
  EXPECT_EQ(hung, 0) << "children blocked on a lock the parent's preparer held at fork";
  EXPECT_EQ(failed, 0);
}

TEST(MmapBackendFaults, ForkIsNotStarvedByReadersSwitchingSegments) {
  TempDir dir;
  auto queue = mq::Queue::open(dir.str(), mlops::testing::small_segments(4096)).value();
  auto log = queue->topic("t").value();
  {
    mq::LogWriter writer(log);
    for (int i = 0; i < 2000; ++i)
      ASSERT_TRUE(writer.append(mlops::testing::as_bytes("r" + std::to_string(i))).has_value());
  }
  // Readers that keep opening segments take the fork guard over and over, overlapping.
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 6; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        mq::LogReader reader(log, log->earliest());
        mq::LogRecord record;
        while (!stop.load() && reader.next(record)) {
        }
      }
    });
  }
  std::chrono::steady_clock::duration slowest{};
  ::alarm(60);  // A fork() that never returns fails the test as SIGALRM.
  for (int i = 0; i < 20; ++i) {
    const auto start = Clock::now();
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    slowest = std::max(slowest, Clock::now() - start);
    ::waitpid(child, nullptr, 0);
  }
  ::alarm(0);
  stop.store(true);
  for (auto& reader : readers) reader.join();
  EXPECT_LT(slowest, 5s) << "fork() waited behind a stream of readers";
}

TEST(MmapBackendFaults, ConsumerInheritedAcrossForkRefusesInTheChild) {
  TempDir dir;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto producer = orc::Producer::create(orch, "t").value();
  ASSERT_EQ(producer.send(text_message("one")), orc::Status::kOk);
  auto consumer = orc::Consumer::create("t", orch, {.group = "g"}).value();
  const int code = run_child([&] {
    std::vector<mes::MLOpsMessage> out;
    if (consumer.receive(out, {}, 100ms) != orc::Status::kError) return 2;
    if (consumer.commit() != orc::Status::kError) return 3;
    // A new consumer in the child is a member of the group of its own: it takes "one" and
    // ends without committing, so the parent's gets it after all.
    auto fresh = orc::Consumer::create("t", orch, {.group = "g", .auto_commit = false});
    if (!fresh) return 4;
    return receive_texts(*fresh, 1) == std::vector<std::string>{"one"} ? 0 : 5;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(receive_texts(consumer, 1), (std::vector<std::string>{"one"}))
      << "the parent's goes on, and gets what the dead child's member held";
}

TEST(MmapBackendFaults, LinksPlantedInTheQueueAreNotFollowed) {
  TempDir dir;
  const auto elsewhere = dir.path() / "elsewhere";
  fs::create_directories(elsewhere);
  const std::string victim = (elsewhere / "victim").string();
  std::ofstream(victim) << "precious";
  fs::create_directories(dir.path() / "q" / "t" / "groups");
  fs::permissions(dir.path() / "q", fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(dir.path() / "q" / "t", fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(dir.path() / "q" / "t" / "groups", fs::perms::owner_all,
                  fs::perm_options::replace);
  fs::create_symlink(victim, dir.path() / "q" / "t" / "control");
  fs::create_symlink(victim, dir.path() / "q" / "t" / "groups" / "g");
  fs::create_directories(dir.path() / "q" / "u");
  fs::create_symlink(elsewhere, dir.path() / "q" / "linked");
  auto orch = orc::Orchestration::from_uri("mmap://" + dir.str() + "/q").value();
  auto producer = orc::Producer::create(orch, "t").value();
  EXPECT_NE(producer.send(text_message("x")), orc::Status::kOk);
  EXPECT_FALSE(orc::Producer::create(orch, "linked").value().send(text_message("x")) ==
               orc::Status::kOk);
  auto consumer = orc::Consumer::create("u", orch, {.group = "g"}).value();
  fs::create_symlink(victim, dir.path() / "q" / "u" / "groups" / "h");
  EXPECT_FALSE(orc::Consumer::create("u", orch, {.group = "h"}).has_value());
  std::string content;
  std::getline(std::ifstream(victim), content);
  EXPECT_EQ(content, "precious") << "a write went through a planted link";
  EXPECT_EQ(std::distance(fs::directory_iterator(elsewhere), fs::directory_iterator{}), 1);
}

TEST(MmapBackendFaults, QueueRootMayBeALinkToAnotherDisk) {
  TempDir dir;
  fs::create_directories(dir.path() / "real");
  fs::permissions(dir.path() / "real", fs::perms::owner_all, fs::perm_options::replace);
  fs::create_directory_symlink(dir.path() / "real", dir.path() / "link");
  auto orch = orc::Orchestration::from_uri("mmap://" + dir.str() + "/link").value();
  auto producer = orc::Producer::create(orch, "t").value();
  EXPECT_EQ(producer.send(text_message("x")), orc::Status::kOk);
  EXPECT_TRUE(fs::exists(dir.path() / "real" / "t" / "control"));
}

TEST(MmapBackendFaults, WorldWritableOrForeignQueueDirectoryIsRefused) {
  TempDir dir;
  fs::create_directories(dir.path() / "open");
  fs::permissions(dir.path() / "open", fs::perms::all, fs::perm_options::replace);
  auto open = orc::Orchestration::from_uri("mmap://" + dir.str() + "/open");
  ASSERT_FALSE(open.has_value());
  EXPECT_NE(open.error().message.find("writable by every user"), std::string::npos)
      << open.error().message;
  if (::geteuid() != 0) GTEST_SKIP() << "changing a directory's owner needs root";
  fs::create_directories(dir.path() / "foreign");
  fs::permissions(dir.path() / "foreign", fs::perms::owner_all, fs::perm_options::replace);
  ASSERT_EQ(::chown((dir.path() / "foreign").c_str(), 4242, 4242), 0);
  auto foreign = orc::Orchestration::from_uri("mmap://" + dir.str() + "/foreign");
  ASSERT_FALSE(foreign.has_value());
  EXPECT_NE(foreign.error().message.find("uid 4242"), std::string::npos) << foreign.error().message;
  EXPECT_TRUE(
      orc::Orchestration::from_uri("mmap://" + dir.str() + "/foreign?mode=0660").has_value())
      << "a group-shared queue accepts its group's directories";
}

TEST(MmapBackendFaults, ModeOptionSharesTheQueueWithTheGroup) {
  TempDir dir;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir, "&mode=0660")).value();
  auto producer = orc::Producer::create(orch, "t").value();
  ASSERT_EQ(producer.send(text_message("x")), orc::Status::kOk);
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / "t" / "control").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0660U);
  ASSERT_EQ(::stat((dir.path() / "t").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0770U);
  EXPECT_FALSE(orc::Orchestration::from_uri(queue_uri(dir, "&mode=0666")).has_value());
  EXPECT_FALSE(orc::Orchestration::from_uri(queue_uri(dir, "&mode=0777")).has_value());
}

TEST(MmapBackendFaults, ConsumersMapSegmentsReadOnly) {
  TempDir dir;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto producer = orc::Producer::create(orch, "t").value();
  ASSERT_EQ(producer.send(text_message("read only")), orc::Status::kOk);
  auto consumer = orc::Consumer::create("t", orch, {.group = "g"}).value();
  const auto got = consumer.receive({}, 5s, 1);
  ASSERT_EQ(got.size(), 1U);
  // The mapping a received view points into, as /proc/self/maps describes it.
  const auto address = reinterpret_cast<std::uintptr_t>(got.front().bytes().data());
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::string permissions;
  while (std::getline(maps, line)) {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &begin, &end, perms) == 3 && address >= begin &&
        address < end) {
      permissions = perms;
    }
  }
  EXPECT_EQ(permissions, "r--s")
      << "the consumer's view of the log is not a read-only shared mapping";
}

TEST(MmapBackendFaults, ConsumerKilledAsleepStopsCostingWakeUps) {
  TempDir dir;
  const auto uri = queue_uri(dir);
  auto queue = mq::Queue::open(dir.str(), mlops::testing::small_segments(65536)).value();
  auto log = queue->topic("t").value();
  auto& control = log->control();
  // Killed while asleep in receive(): its count of waiters stays behind. (A kill that lands
  // between two sleeps leaves none; then the scenario is set up again.)
  for (int attempt = 0; attempt < 20 && control.waiters.load() == 0; ++attempt) {
    const pid_t child = ::fork();
    if (child == 0) {
      auto orch = orc::Orchestration::from_uri(uri);
      auto consumer = orc::Consumer::create("t", *orch, {.group = "g" + std::to_string(attempt)});
      (void)consumer->receive({}, 60s);
      ::_exit(0);
    }
    const auto deadline = Clock::now() + 10s;
    while (control.waiters.load() == 0 && Clock::now() < deadline) std::this_thread::yield();
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
  ASSERT_GT(control.waiters.load(), 0U) << "no consumer was killed asleep";
  // Its announced sleep runs out within one slice; after that a publish pays no wake-up.
  mq::LogWriter writer(log);
  std::uint32_t wakes_before = 0;
  std::uint32_t wakes_after = 0;
  const auto expired_by = Clock::now() + 5s;
  do {
    wakes_before = control.wake.load();
    ASSERT_TRUE(writer.append(mlops::testing::as_bytes("x")).has_value());
    wakes_after = control.wake.load();
  } while (wakes_after != wakes_before && Clock::now() < expired_by);
  EXPECT_EQ(wakes_after, wakes_before) << "every publish still wakes a dead reader";
  EXPECT_GT(control.waiters.load(), 0U);
}

// Kilobytes of pages this process's mappings of `path` have made dirty (/proc/self/smaps):
// what pre-faulting a segment writable costs in page cache to be written back.
std::size_t dirty_bytes_of(const std::string& path) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  std::size_t kilobytes = 0;
  while (std::getline(smaps, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find('-') != std::string::npos && line.find(' ') < line.find(':')) {
      inside = line.size() >= path.size() &&
               line.compare(line.size() - path.size(), path.size(), path) == 0;
    } else if (inside &&
               (line.starts_with("Shared_Dirty:") || line.starts_with("Private_Dirty:"))) {
      kilobytes += std::stoull(line.substr(line.find(':') + 1));
    }
  }
  return kilobytes * 1024;
}

TEST(MmapBackendFaults, OneSendDoesNotDirtyWholeSegments) {
  TempDir dir;
  auto orch = orc::Orchestration::from_uri("mmap://" + dir.str()).value();  // 64 MiB segments.
  auto producer = orc::Producer::create(orch, "t").value();
  ASSERT_EQ(producer.send(text_message("one")), orc::Status::kOk);
  const std::string segment = (dir.path() / "t" / "00000000000000000000.seg").string();
  // The preparer faults in the chunks ahead of the writer: wait until it has (3 chunks, of
  // the smallest size: the segment holds one record).
  const std::size_t ahead = 3 * mq::kMinPrepareChunkBytes;
  const auto deadline = Clock::now() + 20s;
  while (dirty_bytes_of(segment) < ahead && Clock::now() < deadline) std::this_thread::yield();
  const auto dirty = dirty_bytes_of(segment);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_GE(dirty, ahead) << "the preparer did not fault the next chunks in";
  EXPECT_LE(dirty, ahead + page) << "one send dirtied " << (dirty >> 20) << " MiB";
}

TEST(MmapBackendFaults, OptionsAProducerOrConsumerDoesNotReadAreWarnedAbout) {
  TempDir dir;
  static std::mutex mutex;
  static std::vector<std::string> lines;
  mlops::set_log_handler([](mlops::LogLevel, std::string_view line) {
    const std::lock_guard lock(mutex);
    lines.emplace_back(line);
  });
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto producer = orc::Producer::create(orch, "t", {.backend = {{"segment_bytes", "8192"}}});
  auto consumer = orc::Consumer::create("t", orch, {.backend = {{"retention_ms", "5"}}});
  mlops::set_log_handler({});
  ASSERT_TRUE(producer.has_value());
  ASSERT_TRUE(consumer.has_value());
  const std::lock_guard lock(mutex);
  auto warned = [&](const std::string& key) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.find(key) != std::string::npos && line.find("URI") != std::string::npos;
    });
  };
  EXPECT_TRUE(warned("segment_bytes"));
  EXPECT_TRUE(warned("retention_ms"));
}

TEST(MmapBackendFaults, ZeroPendingTimeoutIsRefused) {
  TempDir dir;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir, "&pending_timeout_ms=0"));
  ASSERT_FALSE(orch.has_value());
  EXPECT_NE(orch.error().message.find("pending_timeout_ms"), std::string::npos)
      << orch.error().message;
}

// attack7 F2: one topic whose control file is damaged hid every other topic from the
// listing (Admin::lag: `mlops topics`, `mlops groups`).
TEST(MmapBackendFaults, ListingShowsTheHealthyTopicsAndReportsTheDamagedOne) {
  TempDir dir;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  for (const std::string topic : {"a", "b", "c"}) {
    auto producer = orc::Producer::create(orch, topic).value();
    ASSERT_EQ(producer.send(text_message(topic), /*flush=*/true), orc::Status::kOk);
  }
  // Cut inside its magic: no longer a control file, refused even by a read.
  ASSERT_EQ(::truncate((dir.str() + "/b/control").c_str(), 4), 0);
  static std::mutex mutex;
  static std::vector<std::string> errors;
  mlops::set_log_handler([](mlops::LogLevel level, std::string_view line) {
    const std::lock_guard lock(mutex);
    if (level == mlops::LogLevel::kError) errors.emplace_back(line);
  });
  // A queue opened afresh, as `mlops topics` does: not one that holds the topics open.
  auto fresh = orc::Orchestration::from_uri(queue_uri(dir)).value();
  auto admin = orc::Admin::create(fresh).value();
  auto lags = admin.lag();
  auto one = admin.lag("b");
  mlops::set_log_handler({});
  ASSERT_TRUE(lags.has_value()) << lags.error().message;
  std::vector<std::string> listed;
  for (const auto& lag : *lags) {
    listed.push_back(lag.topic);
    EXPECT_EQ(lag.messages, 1U) << lag.topic;
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"a", "c"}));
  const std::lock_guard lock(mutex);
  ASSERT_EQ(errors.size(), 1U) << "the topic left out is not reported";
  EXPECT_NE(errors[0].find("'b'"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("not an mmap queue control file"), std::string::npos) << errors[0];
  ASSERT_FALSE(one.has_value()) << "the damaged topic asked for by name";
  EXPECT_EQ(one.error().code, mlops::ErrorCode::kCorrupt);
}
