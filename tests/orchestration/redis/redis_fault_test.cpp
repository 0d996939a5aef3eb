// Faults against a real redis-server (appendonly yes, appendfsync always): the server killed
// and restarted while a producer sends and a group consumes; a consumer SIGKILLed between
// receive and commit; the server stopped under every call.
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>

#include "support/redis_test_support.h"

namespace mlops::orchestration::testing {
namespace {

using mlops::testing::RedisServer;

/// Options that keep reconnects and reclaims quick in tests.
constexpr const char* kFaultOptions = "timeout_ms=2000&claim_idle_ms=1000&reconnect_backoff_ms=200";

int env_or(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::atoi(text) : fallback;
}

// Every message whose delivery report said kOk is consumed at least once, however often the
// server dies (SIGKILL) and comes back. MLOPS_REDIS_KILL_CYCLES sets the kills (default 5).
TEST(RedisFaults, ServerKilledAndRestartedLosesNoAcknowledgedMessage) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  const int cycles = env_or("MLOPS_REDIS_KILL_CYCLES", 5);
  const std::string uri = redis_uri(server, kFaultOptions);
  auto orch = Orchestration::from_uri(uri);
  ASSERT_TRUE(orch);
  auto con = Consumer::create("kills", *orch, {.group = "g"});
  ASSERT_TRUE(con) << con.error().message;

  std::mutex mutex;
  std::set<std::int64_t> acked;
  std::atomic<std::size_t> acked_count{0};
  std::atomic<bool> producing{true};
  std::atomic<std::uint64_t> send_errors{0};
  std::thread producer([&] {
    auto pro = Producer::create(*orch, "kills",
                                {.send_timeout = 500ms,
                                 .flush_timeout = 2s,
                                 .on_delivery = [&](const DeliveryReport& report) {
                                   if (report.status != Status::kOk) return;
                                   const std::lock_guard lock(mutex);
                                   acked.insert(number_of(report.message));
                                   acked_count.store(acked.size());
                                 }});
    if (!pro) return;
    for (std::int64_t i = 0; producing.load(); ++i) {
      if (pro->send(numbered(i)) != Status::kOk) send_errors.fetch_add(1);
      if (i % 20 == 19) (void)pro->flush(2s);
    }
    (void)pro->flush(5s);
  });

  std::map<std::int64_t, int> seen;
  std::atomic<bool> consuming{true};
  std::mutex seen_mutex;
  std::thread consumer([&] {
    std::vector<messaging::MLOpsMessage> batch;
    while (consuming.load()) {
      if (con->receive(batch, {}, 200ms) == Status::kOk) {
        const std::lock_guard lock(seen_mutex);
        for (const auto& message : batch) ++seen[number_of(message)];
      }
      (void)con->commit();
    }
  });

  std::mt19937 random(12345);
  bool progressed = true;
  for (int cycle = 0; cycle < cycles && progressed; ++cycle) {
    // Kill at a random moment: after a random number of further acknowledgements.
    const std::size_t target = acked_count.load() + 20 + random() % 200;
    const auto deadline = Clock::now() + 20s;
    while (acked_count.load() < target && Clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);  // polling a counter, bounded by the deadline
    }
    progressed = acked_count.load() >= target;
    server.kill();
    ASSERT_TRUE(server.start()) << "restart " << cycle;
  }
  EXPECT_TRUE(progressed) << "the producer stopped getting acknowledgements";
  const auto after_kills = acked_count.load();
  const auto deadline = Clock::now() + 20s;
  while (acked_count.load() < after_kills + 100 && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  producing.store(false);
  producer.join();
  std::set<std::int64_t> expected;
  {
    const std::lock_guard lock(mutex);
    expected = acked;
  }
  ASSERT_GT(expected.size(), after_kills);
  // Every acknowledged message arrives; wait for the last of them (bounded).
  std::size_t missing = expected.size();
  const auto consume_deadline = Clock::now() + 30s;
  while (Clock::now() < consume_deadline) {
    {
      const std::lock_guard lock(seen_mutex);
      missing = 0;
      for (auto n : expected) missing += seen.count(n) == 0 ? 1 : 0;
    }
    if (missing == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  consuming.store(false);
  consumer.join();
  std::size_t duplicates = 0;
  for (const auto& [n, count] : seen) duplicates += static_cast<std::size_t>(count - 1);
  EXPECT_EQ(missing, 0u) << "of " << expected.size() << " acknowledged";
  std::cout << "[ redis kills ] " << cycles << " kills, " << expected.size()
            << " acknowledged, all delivered: " << (missing == 0) << ", " << duplicates
            << " delivered again (at-least-once), " << send_errors.load()
            << " sends refused while down\n";
}

// A member SIGKILLed after receiving and before committing: another member of the group
// claims (XAUTOCLAIM) and gets every one of its messages.
TEST(RedisFaults, ConsumerKilledBeforeCommitHasItsMessagesReclaimed) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  const std::string uri = redis_uri(server, kFaultOptions);
  constexpr int kCount = 100;
  {
    auto orch = Orchestration::from_uri(uri);
    ASSERT_TRUE(orch);
    auto setup = Consumer::create("reclaim", *orch, {.group = "g"});  // the group, at 0
    ASSERT_TRUE(setup);
    auto pro = Producer::create(*orch, "reclaim");
    ASSERT_TRUE(pro);
    for (int i = 0; i < kCount; ++i) ASSERT_EQ(pro->send(numbered(i)), Status::kOk);
    ASSERT_EQ(pro->flush(5s), Status::kOk);
  }
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    int got = 0;
    auto orch = Orchestration::from_uri(uri);
    if (orch) {
      auto con = Consumer::create("reclaim", *orch, {.group = "g", .auto_commit = false});
      if (con) got = static_cast<int>(receive_n(*con, kCount, 10s).size());
      (void)!::write(report[1], &got, sizeof got);
      ::pause();  // holds them, uncommitted, until killed
    }
    ::_exit(1);
  }
  ::close(report[1]);
  int got = -1;
  pollfd ready{report[0], POLLIN, 0};
  if (::poll(&ready, 1, 20'000) > 0) (void)!::read(report[0], &got, sizeof got);
  ::close(report[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(got, kCount) << "the member to be killed did not receive everything";

  auto orch = Orchestration::from_uri(uri);
  ASSERT_TRUE(orch);
  auto other = Consumer::create("reclaim", *orch, {.group = "g"});
  ASSERT_TRUE(other);
  const auto reclaimed = numbers_of(receive_n(*other, kCount, 15s));
  const std::set<std::int64_t> distinct(reclaimed.begin(), reclaimed.end());
  EXPECT_EQ(reclaimed.size(), std::size_t{kCount});
  EXPECT_EQ(distinct.size(), std::size_t{kCount});
  EXPECT_EQ(other->commit(), Status::kOk);
}

// The server gone: every call returns within its timeout with a clear status, and the
// consumer carries on once the server is back.
TEST(RedisFaults, ServerStoppedCallsReturnInTimeAndConsumerResumes) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server, kFaultOptions));
  ASSERT_TRUE(orch);
  auto con = Consumer::create("stop", *orch, {.group = "g"});
  ASSERT_TRUE(con);
  auto pro = Producer::create(*orch, "stop", {.send_timeout = 500ms, .flush_timeout = 500ms});
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(1), true), Status::kOk);
  ASSERT_EQ(numbers_of(receive_n(*con, 1)), std::vector<std::int64_t>{1});
  ASSERT_EQ(con->commit(), Status::kOk);

  server.kill();
  Status status = Status::kOk;
  // send() may still queue it (the loss is not seen yet): then flush() cannot confirm it.
  EXPECT_LT(time_of([&] { status = pro->send(numbered(2)); }), 1s);
  const bool queued = status == Status::kOk;
  EXPECT_TRUE(queued || status == Status::kError) << to_string(status);
  EXPECT_LT(time_of([&] { status = pro->flush(500ms); }), 1s);
  if (queued) {
    EXPECT_EQ(status, Status::kError);
  }
  EXPECT_LT(time_of([&] { status = pro->send(numbered(2)); }), 1s);
  EXPECT_EQ(status, Status::kError) << "the server is down: nothing is sent";
  std::vector<messaging::MLOpsMessage> batch;
  EXPECT_LT(time_of([&] { status = con->receive(batch, {}, 500ms); }), 1500ms);
  EXPECT_EQ(status, Status::kError);
  EXPECT_TRUE(batch.empty());
  EXPECT_LT(time_of([&] { status = con->commit(); }), 2500ms);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  Result<void> valid;
  EXPECT_LT(time_of([&] { valid = admin->validate_connection(1s); }), 1s);
  ASSERT_FALSE(valid);
  EXPECT_NE(valid.error().message.find("refused"), std::string::npos) << valid.error().message;

  ASSERT_TRUE(server.start());
  // The producer reconnects (after its backoff): a send refused while reconnecting was not
  // sent, so it may be sent again without a duplicate.
  const auto deadline = Clock::now() + 10s;
  while ((status = pro->send(numbered(3), true)) == Status::kError && Clock::now() < deadline) {
  }
  ASSERT_EQ(status, Status::kOk);
  std::vector<std::int64_t> numbers;
  const auto receive_deadline = Clock::now() + 10s;
  while (numbers.empty() && Clock::now() < receive_deadline) {
    if (con->receive(batch, {}, 500ms) == Status::kOk) numbers = numbers_of(batch);
  }
  EXPECT_EQ(numbers, std::vector<std::int64_t>{3});
}

// A server that stops answering (SIGSTOP: connections stay open, nothing comes back): every
// call still returns within its timeout, and all is well once it answers again.
TEST(RedisFaults, ServerThatStopsAnsweringBoundsEveryCall) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch =
      Orchestration::from_uri(redis_uri(server, "timeout_ms=1000&reconnect_backoff_ms=200"));
  ASSERT_TRUE(orch);
  auto con = Consumer::create("pause", *orch, {.group = "g"});
  ASSERT_TRUE(con);
  auto pro = Producer::create(*orch, "pause", {.send_timeout = 300ms, .flush_timeout = 300ms});
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(1), true), Status::kOk);
  ASSERT_EQ(numbers_of(receive_n(*con, 1)), std::vector<std::int64_t>{1});

  server.pause();
  Status status = Status::kOk;
  EXPECT_LT(time_of([&] { status = pro->send(numbered(2), true); }), 1s);
  EXPECT_EQ(status, Status::kDeliveryUnknown) << "queued, not confirmed: " << to_string(status);
  std::vector<messaging::MLOpsMessage> batch;
  // The commit before the read (auto_commit) waits up to timeout_ms, the read its timeout
  // plus the reply's grace.
  EXPECT_LT(time_of([&] { status = con->receive(batch, {}, 300ms); }), 2s);
  EXPECT_EQ(status, Status::kError);
  EXPECT_LT(time_of([&] { status = con->commit(); }), 1500ms);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  Result<void> valid;
  EXPECT_LT(time_of([&] { valid = admin->validate_connection(500ms); }), 1s);
  ASSERT_FALSE(valid);
  EXPECT_LT(time_of([&] { EXPECT_FALSE(admin->topics()); }), 1500ms);
  server.resume();

  // Message 2 was queued before the pause and its reply was lost with the connection (or
  // it is still coming): it may or may not be in the stream. Message 3 must arrive.
  const auto deadline = Clock::now() + 10s;
  while ((status = pro->send(numbered(3), true)) != Status::kOk && Clock::now() < deadline) {
  }
  ASSERT_EQ(status, Status::kOk);
  std::set<std::int64_t> numbers;
  const auto receive_deadline = Clock::now() + 10s;
  while (numbers.count(3) == 0 && Clock::now() < receive_deadline) {
    if (con->receive(batch, {}, 500ms) == Status::kOk) {
      for (auto n : numbers_of(batch)) numbers.insert(n);
    }
  }
  EXPECT_EQ(numbers.count(3), 1u);
  EXPECT_EQ(numbers.count(1), 0u) << "message 1 was committed";
}

// Defect 2 of attack 16: a group whose group or stream is deleted (XGROUP DESTROY, DEL), or
// whose server restarts empty, has its group made again and gets what is sent next, also
// when XAUTOCLAIM is the first to see NOGROUP; a key that cannot be a stream any more gives
// errors at the pace of a backoff, not a busy loop.
TEST(RedisFaults, GroupOrStreamVanishedIsRecreatedWithoutBusyLoop) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(
      redis_uri(server, "timeout_ms=2000&claim_idle_ms=200&reconnect_backoff_ms=200"));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "vanish");
  ASSERT_TRUE(pro);
  std::int64_t next = 0;
  for (const std::string how : {"XGROUP DESTROY vanish g", "DEL vanish", "restart"}) {
    SCOPED_TRACE(how);
    auto con = Consumer::create("vanish", *orch, {.group = "g"});
    ASSERT_TRUE(con) << con.error().message;
    ASSERT_EQ(pro->send(numbered(next++), true), Status::kOk);
    ASSERT_EQ(receive_n(*con, 1).size(), 1u);
    ASSERT_EQ(con->commit(), Status::kOk);
    if (how == "restart") {
      server.kill();
      ASSERT_TRUE(server.start());
      // The restarted server may have kept the stream (appendonly): delete it.
      redisContext* raw = redisConnect("127.0.0.1", server.port());
      ASSERT_NE(raw, nullptr);
      freeReplyObject(redisCommand(raw, "DEL vanish"));
      redisFree(raw);
    } else {
      redisContext* raw = redisConnect("127.0.0.1", server.port());
      ASSERT_NE(raw, nullptr);
      auto* reply = static_cast<redisReply*>(redisCommand(raw, how.c_str()));
      ASSERT_NE(reply, nullptr);
      ASSERT_EQ(reply->type, REDIS_REPLY_INTEGER);
      ASSERT_EQ(reply->integer, 1);
      freeReplyObject(reply);
      redisFree(raw);
    }
    // Let the consumer meet NOGROUP before anything is sent (it recreates at "$").
    (void)con->receive({}, 300ms, 5);
    std::vector<std::int64_t> sent;
    std::set<std::int64_t> got;
    const auto deadline = Clock::now() + 15s;
    while (got.size() < 5 && Clock::now() < deadline) {
      if (sent.size() < 5 && pro->send(numbered(next), true) == Status::kOk) sent.push_back(next++);
      for (const auto& message : con->receive({}, 200ms, 5)) got.insert(number_of(message));
      (void)con->commit();
    }
    EXPECT_EQ(got.size(), 5u) << "the group was not made again";
  }

  // A key that is no stream: every receive fails, paced by the backoff.
  auto con = Consumer::create("vanish", *orch, {.group = "g"});
  ASSERT_TRUE(con) << con.error().message;
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_NE(raw, nullptr);
  freeReplyObject(redisCommand(raw, "DEL vanish"));
  freeReplyObject(redisCommand(raw, "SET vanish not-a-stream"));
  redisFree(raw);
  int calls = 0;
  const auto until = Clock::now() + 1500ms;
  while (Clock::now() < until) {
    std::vector<mes::MLOpsMessage> out;
    const auto took = time_of([&] { (void)con->receive(out, {}, 100ms, 5); });
    EXPECT_LE(took, 100ms + 1s) << "receive overran its timeout";
    ++calls;
  }
  EXPECT_LT(calls, 100) << "receive returned at once, over and over (a busy loop)";
}

// Defect 6 of attack 16: a producer and a group-less consumer inherited across fork() are
// refused in the child (kError, a clear error), and the child dropping them leaves the
// parent's connection and group as they were.
TEST(RedisFaults, InheritedAcrossForkIsRefusedInTheChildAndParentUnaffected) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server, kFaultOptions));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "forked");
  ASSERT_TRUE(pro);
  auto con = Consumer::create("forked", *orch);  // a group of its own
  ASSERT_TRUE(con) << con.error().message;
  ASSERT_EQ(pro->send(numbered(1), true), Status::kOk);
  ASSERT_EQ(numbers_of(receive_n(*con, 1)), std::vector<std::int64_t>{1});
  ASSERT_EQ(con->commit(), Status::kOk);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int failures = 0;
    if (pro->send(numbered(2), true) != Status::kError) failures |= 1;
    std::vector<mes::MLOpsMessage> out;
    if (con->receive(out, {}, 100ms) != Status::kError) failures |= 2;
    if (con->subscribe(std::string("other"))) failures |= 4;
    con->close();  // must not destroy the parent's group
    pro->close();
    ::_exit(failures);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: send, 2: receive, 4: subscribe not refused in the child";

  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_NE(raw, nullptr);
  auto* groups = static_cast<redisReply*>(redisCommand(raw, "XINFO GROUPS forked"));
  ASSERT_NE(groups, nullptr);
  EXPECT_EQ(groups->type == REDIS_REPLY_ARRAY ? groups->elements : 0u, 1u)
      << "the child destroyed the parent's group";
  freeReplyObject(groups);
  redisFree(raw);
  ASSERT_EQ(pro->send(numbered(3), true), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(*con, 1)), std::vector<std::int64_t>{3});
}

}  // namespace
}  // namespace mlops::orchestration::testing
