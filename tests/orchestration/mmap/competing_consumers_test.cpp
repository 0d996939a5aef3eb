// Competing consumers on the mmap queue, across processes: the members of one group share a
// topic, and what a member that dies, stalls past its lease or leaves held uncommitted goes
// to the others. Every test counts each message's deliveries exactly (a tally in shared
// memory that every member process writes into).
#include <gtest/gtest.h>
#include <mlops/log.h>
#include <mlops/orchestration.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "orchestration/mmap/layout.h"
#include "support/competing_test_support.h"
#include "support/mmap_test_support.h"

namespace orc = mlops::orchestration;
namespace mq = mlops::orchestration::detail::mmap;
using mlops::testing::fork_child;
using mlops::testing::number_of;
using mlops::testing::numbered;
using mlops::testing::Tally;
using mlops::testing::wait_exit_code;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string queue_uri(const mlops::testing::TempDir& dir, const std::string& extra = "") {
  return "mmap://" + dir.str() + "?segment_bytes=65536&populate=false" + extra;
}

void produce(const std::string& uri, int from, int count) {
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto producer = orc::Producer::create(orch, "work").value();
  for (int i = from; i < from + count; ++i) ASSERT_EQ(producer.send(numbered(i)), orc::Status::kOk);
  ASSERT_EQ(producer.flush(5s), orc::Status::kOk);
}

// A member process: receives (auto-commit) and tallies until the test stops the tally or
// the deadline passes, then commits and ends. Exit code 0 when it was stopped cleanly.
pid_t drain_member(const std::string& uri, Tally& tally, std::size_t member, std::size_t batch,
                   std::chrono::seconds deadline = 30s) {
  return fork_child([&uri, &tally, member, batch, deadline] {
    auto orch = orc::Orchestration::from_uri(uri);
    if (!orch) return 10;
    auto consumer = orc::Consumer::create("work", *orch, {.group = "stage"});
    if (!consumer) return 11;
    const auto give_up = Clock::now() + deadline;
    while (!tally.stopped() && Clock::now() < give_up) {
      for (const auto& msg : consumer->receive({}, 20ms, batch))
        tally.record(member, number_of(msg));
    }
    if (consumer->commit() != orc::Status::kOk) return 12;
    return tally.stopped() ? 0 : 13;
  });
}

// Receives with a fresh member until a receive comes back empty: a dead member's ranges
// are taken at the first look, so an empty receive means nothing is left uncommitted.
void drain_rest(const std::string& uri, Tally& tally, std::size_t member) {
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto last = orc::Consumer::create("work", orch, {.group = "stage"}).value();
  for (;;) {
    const auto got = last.receive({}, 50ms, 256);
    if (got.empty()) break;
    for (const auto& msg : got) tally.record(member, number_of(msg));
  }
  ASSERT_EQ(last.commit(), orc::Status::kOk);
}

// The group file's claim table, for a failure message.
std::string describe_group(const std::filesystem::path& path) {
  mq::GroupTable table{};
  std::ifstream(path, std::ios::binary)
      .seekg(static_cast<std::streamoff>(mq::kGroupTableOffset))
      .read(reinterpret_cast<char*>(&table), sizeof table);
  std::ostringstream out;
  out << "watermark " << table.watermark << ", frontier " << table.frontier << ", ranges";
  for (std::uint32_t i = 0; i < std::min(table.used_slots, mq::kGroupSlots); ++i) {
    const auto& slot = table.slots[i];
    out << " [" << slot.start << "," << slot.end << ") state " << static_cast<int>(slot.state)
        << " owner " << slot.owner_process << "/" << slot.owner_member;
  }
  return out.str();
}

std::string unseen(const Tally& tally, int messages) {
  std::ostringstream out;
  int shown = 0;
  for (int n = 0; n < messages && shown < 20; ++n) {
    if (tally.count(n) == 0) out << " " << n, ++shown;
  }
  return out.str();
}

}  // namespace

TEST(MmapCompetingConsumers, FourMemberProcessesShareEveryMessageExactlyOnce) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  constexpr int kMessages = 20000;
  constexpr std::size_t kMembers = 4;
  Tally tally(kMessages, kMembers);
  std::vector<pid_t> members;
  for (std::size_t m = 0; m < kMembers; ++m) members.push_back(drain_member(uri, tally, m, 64));
  produce(uri, 0, kMessages);
  EXPECT_TRUE(tally.wait_all_seen(30s));
  tally.stop();
  for (const pid_t child : members) EXPECT_EQ(wait_exit_code(child), 0) << "member";
  EXPECT_EQ(tally.bad(), 0U);
  for (int n = 0; n < kMessages; ++n) ASSERT_EQ(tally.count(n), 1U) << "message " << n;
  std::size_t sharing = 0;
  for (std::size_t m = 0; m < kMembers; ++m) sharing += tally.received_by(m) > 0 ? 1 : 0;
  EXPECT_GE(sharing, 2U) << "one member took everything: the group did not share";
}

TEST(MmapCompetingConsumers, MemberKilledMidBatchHasExactlyItsUncommittedMessagesRedelivered) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  constexpr int kMessages = 3000;
  Tally tally(kMessages, 3);
  produce(uri, 0, kMessages);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  // Member 0 commits one batch, takes a second and is killed before committing it.
  const pid_t victim = fork_child([&] {
    auto orch = orc::Orchestration::from_uri(uri);
    if (!orch) return 10;
    auto consumer = orc::Consumer::create("work", *orch, {.group = "stage", .auto_commit = false});
    if (!consumer) return 11;
    for (const auto& msg : consumer->receive({}, 5s, 100)) tally.record(0, number_of(msg));
    if (consumer->commit() != orc::Status::kOk) return 12;
    for (const auto& msg : consumer->receive({}, 5s, 100)) tally.record(1, number_of(msg), false);
    const char byte = 'r';
    (void)!::write(ready[1], &byte, 1);
    ::pause();
    return 13;
  });
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  // The survivor starts while the victim is alive: it must not get the victim's batch yet.
  const pid_t survivor = drain_member(uri, tally, 2, 50);
  ::kill(victim, SIGKILL);
  EXPECT_EQ(wait_exit_code(victim), 128 + SIGKILL);
  EXPECT_TRUE(tally.wait_all_seen(30s)) << "the survivor did not get every message";
  tally.stop();
  EXPECT_EQ(wait_exit_code(survivor), 0);
  const auto uncommitted = tally.received_by(1);
  ASSERT_GT(uncommitted, 0U);
  ASSERT_GT(tally.received_by(0), 0U);
  for (int n = 0; n < kMessages; ++n) {
    const bool held_by_victim = tally.got(1, n);
    EXPECT_EQ(tally.count(n), held_by_victim ? 2U : 1U) << "message " << n;
    if (held_by_victim) {
      EXPECT_TRUE(tally.got(2, n)) << "message " << n << " not redelivered";
    }
  }
}

TEST(MmapCompetingConsumers, StalledMemberPastItsLeaseLosesItsRangeAndItsCommitLeavesItBe) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir, "&lease_ms=200");
  constexpr int kMessages = 500;
  Tally tally(kMessages, 2);
  produce(uri, 0, kMessages);
  int ready[2];
  int go_on[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go_on), 0);
  // The staller's lease starts when it claims, after this moment.
  const auto before_claim = Clock::now();
  const pid_t staller = fork_child([&] {
    auto orch = orc::Orchestration::from_uri(uri);
    if (!orch) return 10;
    auto consumer = orc::Consumer::create("work", *orch, {.group = "stage", .auto_commit = false});
    if (!consumer) return 11;
    for (const auto& msg : consumer->receive({}, 5s, 40)) tally.record(0, number_of(msg), false);
    char byte = 'r';
    (void)!::write(ready[1], &byte, 1);
    if (::read(go_on[0], &byte, 1) != 1) return 12;  // Stalls, alive, past its lease.
    return consumer->commit() == orc::Status::kOk ? 0 : 13;
  });
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto survivor = orc::Consumer::create("work", orch, {.group = "stage"}).value();
  const auto give_up = Clock::now() + 10s;
  while (!tally.all_seen() && Clock::now() < give_up) {
    for (const auto& msg : survivor.receive({}, 20ms, 64)) {
      const auto n = number_of(msg);
      if (tally.got(0, n)) {
        EXPECT_GE(Clock::now() - before_claim, 200ms) << "taken before the lease ran out";
      }
      tally.record(1, n);
    }
  }
  ASSERT_EQ(survivor.commit(), orc::Status::kOk);
  (void)!::write(go_on[1], &byte, 1);
  EXPECT_EQ(wait_exit_code(staller), 0) << "the stalled member's late commit failed";
  for (int fd : {ready[0], ready[1], go_on[0], go_on[1]}) ::close(fd);
  ASSERT_EQ(tally.received_by(0), 40U);
  for (int n = 0; n < kMessages; ++n) {
    EXPECT_EQ(tally.count(n), tally.got(0, n) ? 2U : 1U) << "message " << n;
  }
  // Everything is committed: the group's next member gets nothing.
  auto next = orc::Consumer::create("work", orch, {.group = "stage"}).value();
  EXPECT_TRUE(next.receive(100ms).empty()) << "the stalled member's late commit undid a commit";
}

// Attack finding F5: a member whose range another member's seek took away is told so, not
// that it held the range past its lease; its late commit leaves the moved group be.
TEST(MmapCompetingConsumers, MemberWhoseRangeASeekTookIsToldItWasTheSeek) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  produce(uri, 0, 10);
  static std::mutex mutex;
  static std::vector<std::string> lines;
  lines.clear();
  mlops::set_log_handler([](mlops::LogLevel, std::string_view line) {
    const std::lock_guard lock(mutex);
    lines.emplace_back(line);
  });
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto holder =
      orc::Consumer::create("work", orch, {.group = "stage", .auto_commit = false}).value();
  ASSERT_EQ(holder.receive({}, 5s, 4).size(), 4U);
  auto seeker =
      orc::Consumer::create("work", orch, {.group = "stage", .auto_commit = false}).value();
  ASSERT_TRUE(seeker.seek("work", orc::Position::earliest()));
  ASSERT_EQ(holder.commit(), orc::Status::kOk);
  mlops::set_log_handler({});
  {
    const std::lock_guard lock(mutex);
    const auto told = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
      return line.find("no longer its own") != std::string::npos;
    });
    ASSERT_NE(told, lines.end()) << "the member was not told its range went";
    EXPECT_NE(told->find("seek"), std::string::npos) << *told;
  }
  // The late commit did not take the group past the four: the seeker gets all ten.
  std::set<std::int64_t> seen;
  const auto give_up = Clock::now() + 10s;
  while (seen.size() < 10 && Clock::now() < give_up) {
    for (const auto& msg : seeker.receive({}, 100ms, 16)) seen.insert(number_of(msg));
  }
  EXPECT_EQ(seen.size(), 10U);
}

TEST(MmapCompetingConsumers, MembersJoiningAndLeavingWhileMessagesFlowLoseNothing) {
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  constexpr int kMessages = 6000;
  constexpr std::size_t kRounds = 12;
  // Member slot r leaves after a few batches, without committing its last one when r is
  // odd: exactly that batch comes again to the others.
  Tally tally(kMessages, kRounds + 1);
  const pid_t producer = fork_child([&] {
    auto orch = orc::Orchestration::from_uri(uri);
    if (!orch) return 10;
    auto sender = orc::Producer::create(*orch, "work");
    if (!sender) return 11;
    for (int i = 0; i < kMessages; ++i) {
      if (sender->send(numbered(i)) != orc::Status::kOk) return 12;
    }
    return sender->flush(5s) == orc::Status::kOk ? 0 : 13;
  });
  const pid_t steady = drain_member(uri, tally, kRounds, 32);
  for (std::size_t r = 0; r < kRounds; ++r) {
    const pid_t member = fork_child([&, r] {
      auto orch = orc::Orchestration::from_uri(uri);
      if (!orch) return 10;
      auto consumer = orc::Consumer::create("work", *orch, {.group = "stage"});
      if (!consumer) return 11;
      std::vector<std::int64_t> last;
      for (int batch = 0; batch < 5; ++batch) {
        last.clear();
        for (const auto& msg : consumer->receive({}, 50ms, 16)) {
          tally.record(r, number_of(msg));
          last.push_back(number_of(msg));
        }
      }
      if (r % 2 == 0) return consumer->commit() == orc::Status::kOk ? 0 : 12;
      for (const auto n : last) tally.release(n);  // Closed uncommitted: these come again.
      consumer->close();
      return 0;
    });
    EXPECT_EQ(wait_exit_code(member), 0) << "member " << r;
  }
  EXPECT_EQ(wait_exit_code(producer), 0) << "producer";
  EXPECT_TRUE(tally.wait_all_seen(30s)) << "the steady member did not get every message";
  tally.stop();
  EXPECT_EQ(wait_exit_code(steady), 0);
  EXPECT_EQ(tally.bad(), 0U);
  for (int n = 0; n < kMessages; ++n) {
    EXPECT_EQ(tally.count(n), 1U + tally.released(n)) << "message " << n;
  }
}

// The attack: members killed with SIGKILL at random moments (inside receive, between
// receive and commit, inside commit) while messages keep coming; a replacement joins after
// each kill. Each cycle sends a chunk, waits until the victim is receiving, then kills it
// after a random delay. Nothing may be lost, and a message may come more than once only
// when a killed member had received it. MLOPS_ATTACK_CYCLES sets the kills (default 40).
TEST(MmapCompetingConsumers, MembersKilledAtRandomMomentsLoseNothing) {
  const char* cycles_env = std::getenv("MLOPS_ATTACK_CYCLES");
  const std::size_t cycles = cycles_env != nullptr ? std::strtoul(cycles_env, nullptr, 10) : 40;
  mlops::testing::TempDir dir;
  const auto uri = queue_uri(dir);
  constexpr int kChunk = 200;
  const int messages = static_cast<int>(cycles + 1) * kChunk;
  constexpr std::size_t kLive = 3;
  Tally tally(static_cast<std::size_t>(messages), cycles + kLive + 1);  // Last: the final drain.
  std::mt19937 random(std::random_device{}());
  auto orch = orc::Orchestration::from_uri(uri).value();
  auto producer = orc::Producer::create(orch, "work").value();
  int sent = 0;
  const auto send = [&](int count) {
    for (int i = 0; i < count && sent < messages; ++i) {
      ASSERT_EQ(producer.send(numbered(sent++)), orc::Status::kOk);
    }
  };
  std::vector<std::pair<pid_t, std::size_t>> live;
  std::size_t next_slot = 0;
  const auto spawn = [&] {
    const std::size_t slot = next_slot++;
    live.emplace_back(drain_member(uri, tally, slot, 1 + random() % 48, 120s), slot);
  };
  for (std::size_t i = 0; i < kLive; ++i) spawn();
  std::vector<std::size_t> killed;
  std::size_t killed_receiving = 0;
  for (std::size_t cycle = 0; cycle < cycles; ++cycle) {
    const std::size_t pick = random() % live.size();
    const auto [pid, slot] = live[pick];
    // Messages in small bursts until the victim has received some (bounded: a chunk, then
    // a deadline), then a random moment.
    const int chunk_end = std::min(sent + kChunk, messages);
    const auto give_up = Clock::now() + 2s;
    while (tally.deliveries_to(slot) == 0 && Clock::now() < give_up) {
      if (sent < chunk_end) send(10);
      ::usleep(200);
    }
    killed_receiving += tally.deliveries_to(slot) > 0 ? 1 : 0;
    ::usleep(random() % 3000);
    ::kill(pid, SIGKILL);
    EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL) << "member " << slot << " ended by itself";
    killed.push_back(slot);
    live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    spawn();
  }
  send(messages - sent);
  ASSERT_EQ(producer.flush(5s), orc::Status::kOk);
  // Messages a killed member recorded count as seen; what it held uncommitted is still
  // claimed by it, and goes to the final drain if the live members did not take it.
  if (!tally.wait_all_seen(60s)) {
    ADD_FAILURE() << "the live members did not get every message in 60 s: "
                  << describe_group(dir.path() / "work" / "groups" / "stage")
                  << "; unseen:" << unseen(tally, messages);
  }
  tally.stop();
  for (const auto& [pid, slot] : live) EXPECT_EQ(wait_exit_code(pid), 0) << "member " << slot;
  drain_rest(uri, tally, cycles + kLive);
  EXPECT_EQ(tally.bad(), 0U);
  std::size_t duplicated = 0;
  for (int n = 0; n < messages; ++n) {
    ASSERT_GE(tally.count(n), 1U) << "message " << n << " lost";
    std::uint32_t killed_receivers = 0;
    for (const auto slot : killed) killed_receivers += tally.got(slot, n) ? 1 : 0;
    EXPECT_LE(tally.count(n), 1U + killed_receivers)
        << "message " << n << " came again though no member that had it was killed";
    duplicated += tally.count(n) - 1;
  }
  std::cout << "attack: " << cycles << " kills (" << killed_receiving
            << " of members already receiving), " << messages << " messages, " << duplicated
            << " redeliveries, 0 lost\n";
  auto next = orc::Consumer::create("work", orch, {.group = "stage"}).value();
  EXPECT_TRUE(next.receive(100ms).empty()) << "a range stayed uncommitted after the drain";
}

TEST(MmapCompetingConsumers, LeaseOutsideItsRangeIsRefusedSayingWhich) {
  mlops::testing::TempDir dir;
  auto short_lease = orc::Orchestration::from_uri(queue_uri(dir, "&lease_ms=5"));
  ASSERT_FALSE(short_lease.has_value());
  EXPECT_NE(short_lease.error().message.find("lease_ms"), std::string::npos)
      << short_lease.error().message;
  auto orch = orc::Orchestration::from_uri(queue_uri(dir)).value();
  orc::ConsumerOptions options{.group = "stage"};
  options.backend = {{"lease_ms", "soon"}};
  auto consumer = orc::Consumer::create("work", orch, options);
  ASSERT_FALSE(consumer.has_value());
  EXPECT_NE(consumer.error().message.find("lease_ms"), std::string::npos)
      << consumer.error().message;
}
