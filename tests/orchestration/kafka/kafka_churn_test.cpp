// A consumer group under churn on librdkafka's mock cluster: while a producer sends N
// messages over 8 partitions, members join, leave (close) and die (SIGKILL: a process of
// their own, gone without leaving or committing). At-least-once means no acknowledged
// message may be missing from what the members, together, received. N is
// MLOPS_CHURN_MESSAGES (default 50000, sized for CI: well under a minute on two cores).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "support/churn_group_settings.h"
#include "support/kafka_test_support.h"

extern char** environ;

namespace mlops::orchestration::testing {
namespace {

std::int64_t message_count() {
  if (const char* text = std::getenv("MLOPS_CHURN_MESSAGES")) {
    const auto value = std::strtoll(text, nullptr, 10);
    if (value > 0) return value;
  }
  return 50'000;
}

const BackendOptions kGroupSettings = churn_group_settings();

/// Which message numbers some member received, and how often.
class Seen {
 public:
  explicit Seen(std::int64_t count) : marks_(static_cast<std::size_t>(count)) {}
  void mark(std::int64_t n) noexcept {
    if (n < 0 || n >= static_cast<std::int64_t>(marks_.size())) {
      strays_.fetch_add(1);
      return;
    }
    if (marks_[static_cast<std::size_t>(n)].fetch_add(1) == 0) distinct_.fetch_add(1);
    total_.fetch_add(1);
  }
  [[nodiscard]] bool has(std::int64_t n) const noexcept {
    return marks_[static_cast<std::size_t>(n)].load() != 0;
  }
  [[nodiscard]] std::int64_t distinct() const noexcept { return distinct_.load(); }
  [[nodiscard]] std::int64_t total() const noexcept { return total_.load(); }
  [[nodiscard]] std::int64_t strays() const noexcept { return strays_.load(); }

 private:
  std::vector<std::atomic<std::uint32_t>> marks_;
  std::atomic<std::int64_t> distinct_{0};
  std::atomic<std::int64_t> total_{0};
  std::atomic<std::int64_t> strays_{0};
};

/// A member on a thread of this process; leave() closes it (a clean leave).
class ThreadMember {
 public:
  ThreadMember(const Orchestration& orch, const std::string& topic, Seen& seen)
      : thread_([this, &orch, topic, &seen] { run(orch, topic, seen); }) {}
  ~ThreadMember() { leave(); }
  ThreadMember(const ThreadMember&) = delete;
  ThreadMember& operator=(const ThreadMember&) = delete;
  void leave() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(const Orchestration& orch, const std::string& topic, Seen& seen) {
    auto made = Consumer::create(
        topic, orch, {.group = "churn", .auto_commit = false, .backend = kGroupSettings});
    ASSERT_TRUE(made) << made.error().message;
    std::vector<mes::MLOpsMessage> got;
    while (!stop_.load()) {
      (void)made->receive(got, {}, 100ms, 1000);
      for (const auto& m : got) seen.mark(number_of(m));
      if (!got.empty()) (void)made->commit();
    }
    made->close();
  }

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// A member in a process of its own (kafka_churn_member); kill() ends it with SIGKILL.
class ProcessMember {
 public:
  ProcessMember(const std::string& uri, const std::string& topic, Seen& seen) {
    std::array<int, 2> pipe{};
    if (::pipe2(pipe.data(), O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe: " << std::strerror(errno);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe[1], STDOUT_FILENO);
    std::vector<std::string> args{MLOPS_CHURN_MEMBER, uri, topic, "churn"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int spawned =
        ::posix_spawn(&pid_, MLOPS_CHURN_MEMBER, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe[1]);
    if (spawned != 0) {
      ::close(pipe[0]);
      pid_ = -1;
      ADD_FAILURE() << "posix_spawn " << MLOPS_CHURN_MEMBER << ": " << std::strerror(spawned);
      return;
    }
    // Reads numbers until the process is gone (end of file).
    reader_ = std::thread([fd = pipe[0], &seen] {
      std::array<std::int64_t, 512> numbers{};
      std::size_t have = 0;  // bytes
      for (;;) {
        auto* bytes = reinterpret_cast<char*>(numbers.data());
        const auto got = ::read(fd, bytes + have, sizeof(numbers) - have);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        have += static_cast<std::size_t>(got);
        const std::size_t whole = have / sizeof(std::int64_t);
        for (std::size_t i = 0; i < whole; ++i) seen.mark(numbers[i]);
        std::memmove(bytes, bytes + whole * sizeof(std::int64_t), have % sizeof(std::int64_t));
        have %= sizeof(std::int64_t);
      }
      ::close(fd);
    });
  }
  ~ProcessMember() { kill(); }
  ProcessMember(const ProcessMember&) = delete;
  ProcessMember& operator=(const ProcessMember&) = delete;

  /// SIGKILL: no leave, no commit; what it received and did not commit comes again.
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    if (reader_.joinable()) reader_.join();
  }

 private:
  pid_t pid_ = -1;
  std::thread reader_;
};

/// Waits (up to `within`) until `seen` holds at least `count` distinct messages.
void wait_for(const Seen& seen, std::int64_t count, std::chrono::milliseconds within) {
  const auto deadline = Clock::now() + within;
  while (seen.distinct() < count && Clock::now() < deadline) std::this_thread::yield();
}

TEST(KafkaChurn, MembersJoinLeaveAndDieWhileSendingAndNoAcknowledgedMessageIsMissed) {
  const auto start = Clock::now();
  const std::int64_t total = message_count();
  MockCluster mock(3);
  ASSERT_TRUE(mock.ok());
  const auto topic = unique_name("churn");
  mock.create_topic(topic, 8);
  const auto uri = mock.uri();
  auto orch = open(uri);
  Seen seen(total);
  std::vector<std::atomic<bool>> acknowledged(static_cast<std::size_t>(total));
  // ordering=none: the messages spread over all 8 partitions (and so over the members).
  auto pro = make_producer(orch, topic,
                           {.on_delivery =
                                [&](const DeliveryReport& report) {
                                  if (report.status != Status::kOk) return;
                                  const auto n = number_of(report.message);
                                  if (n >= 0 && n < total)
                                    acknowledged[static_cast<std::size_t>(n)].store(true);
                                },
                            .backend = {{"ordering", "none"}}});

  // The churn, one step per tenth of the messages: members join, leave and die.
  std::vector<std::unique_ptr<ThreadMember>> threads;
  std::vector<std::unique_ptr<ProcessMember>> processes;
  const auto join_thread = [&] {
    threads.push_back(std::make_unique<ThreadMember>(orch, topic, seen));
  };
  const auto join_process = [&] {
    processes.push_back(std::make_unique<ProcessMember>(uri, topic, seen));
  };
  join_thread();  // stays to the end
  join_thread();
  join_process();
  join_process();
  const std::vector<std::function<void()>> steps{
      [&] { processes[0]->kill(); }, [&] { join_process(); },       [&] { threads[1]->leave(); },
      [&] { join_thread(); },        [&] { processes[1]->kill(); }, [&] { join_process(); },
      [&] { threads[2]->leave(); },  [&] { processes[2]->kill(); }, [&] { join_thread(); },
      [&] { processes[3]->kill(); },
  };
  const std::int64_t chunk = total / static_cast<std::int64_t>(steps.size());
  std::int64_t next = 0;
  for (std::size_t step = 0; step < steps.size(); ++step) {
    const std::int64_t end = step + 1 == steps.size() ? total : next + chunk;
    for (; next < end; ++next)
      ASSERT_EQ(pro.send(numbered(next)), Status::kOk) << "message " << next;
    ASSERT_EQ(pro.flush(30s), Status::kOk);
    steps[step]();
    // Let the group keep up (within two tenths) before the next change, so every change
    // lands while members are consuming.
    wait_for(seen, next - 2 * chunk, 20s);
    // One line a step: when CI stops a slow run, its output shows where the group stalled.
    std::printf("churn step %zu: %lld sent, %lld seen, %.1f s\n", step,
                static_cast<long long>(next), static_cast<long long>(seen.distinct()),
                std::chrono::duration<double>(Clock::now() - start).count());
    std::fflush(stdout);
  }
  // The first member and the last to join stay: together they must get everything.
  wait_for(seen, total, 60s);
  for (auto& member : threads) member->leave();
  for (auto& member : processes) member->kill();

  std::int64_t missing = 0;
  std::int64_t unacknowledged = 0;
  for (std::int64_t n = 0; n < total; ++n) {
    if (!acknowledged[static_cast<std::size_t>(n)].load()) {
      ++unacknowledged;
    } else if (!seen.has(n)) {
      if (missing++ < 10) ADD_FAILURE() << "acknowledged message " << n << " never received";
    }
  }
  const auto seconds = std::chrono::duration<double>(Clock::now() - start).count();
  RecordProperty("messages", static_cast<int>(total));
  RecordProperty("received", static_cast<int>(seen.total()));
  RecordProperty("seconds", static_cast<int>(seconds));
  EXPECT_EQ(unacknowledged, 0);
  EXPECT_EQ(missing, 0) << missing << " of " << total << " acknowledged messages missing";
  EXPECT_EQ(seen.strays(), 0);
  std::printf(
      "churn: %lld messages, %lld received (%lld again after a rebalance or a kill), "
      "%lld missing, %.1f s\n",
      static_cast<long long>(total), static_cast<long long>(seen.total()),
      static_cast<long long>(seen.total() - seen.distinct()), static_cast<long long>(missing),
      seconds);
}

}  // namespace
}  // namespace mlops::orchestration::testing
