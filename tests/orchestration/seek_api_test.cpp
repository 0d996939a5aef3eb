// Consumer::seek (replay), the same on every backend (backend_cases()).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/api_fixture.h"

namespace mlops::orchestration::testing {
namespace {

using std::chrono::system_clock;

class SeekApi : public BackendFixture {
 protected:
  // Messages "0".."count-1" stamped base, base + 1 s, ...; returns them as sent.
  std::vector<mes::MLOpsMessage> send_spread(Producer& pro, int count, std::int64_t base_ns) {
    std::vector<mes::MLOpsMessage> sent;
    for (int i = 0; i < count; ++i) {
      sent.push_back(mes::MessageBuilder()
                         .with_creator("test")
                         .with_user_msg(std::to_string(i))
                         .with_timestamp(base_ns + std::int64_t{i} * 1'000'000'000)
                         .build());
      EXPECT_EQ(pro.send(sent.back()), Status::kOk);
    }
    EXPECT_EQ(pro.flush(), Status::kOk);
    return sent;
  }
  // The user messages of `messages`, sorted (kafka orders per partition only).
  static std::vector<std::string> names(const std::vector<mes::MLOpsMessage>& messages) {
    std::vector<std::string> out;
    for (const auto& message : messages) out.emplace_back(message.user_message().value_or("?"));
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<std::string> range(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back(std::to_string(i));
    std::sort(out.begin(), out.end());
    return out;
  }
  // A seek's outcome, with the error's text when it failed.
  static ::testing::AssertionResult sought(const Result<void>& moved) {
    if (moved) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << moved.error().message;
  }
  static system_clock::time_point at_ns(std::int64_t ns) {
    return system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(ns)));
  }
};

TEST_P(SeekApi, AtTimeStartsExactlyAtTheFirstMessageAtOrAfterIt) {
  const auto topic = unique_name();
  // inproc frees what every group committed, and a seek forward commits: a group that
  // seeks back later needs another to hold the messages.
  auto keeper = consumer(topic, {.group = "keeper"});
  auto con = consumer(topic, {.group = "stage", .auto_commit = false});
  auto pro = producer(topic);
  const std::int64_t base = mes::unix_now_ns() - 3'600'000'000'000;  // an hour ago
  send_spread(pro, 10, base);
  ASSERT_EQ(receive_n(con, 10, 10s).size(), 10u);

  // Between two stamps: starts at the next one.
  ASSERT_TRUE(sought(con.seek(topic, Position::at_time(at_ns(base + 4'500'000'000)))));
  auto got = receive_n(con, 5, 10s);
  EXPECT_EQ(names(got), range(5, 10));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].user_message(), "5")
      << "did not start at the first message at or after the time";
  EXPECT_TRUE(con.receive(200ms).empty()) << "more than the messages at or after the time";
  EXPECT_EQ(con.stats().replay_skipped, 5u);

  // Exactly on a stamp: that message is the first.
  ASSERT_TRUE(sought(con.seek(topic, Position::at_time(at_ns(base + 4'000'000'000)))));
  got = receive_n(con, 6, 10s);
  EXPECT_EQ(names(got), range(4, 10));
  EXPECT_TRUE(con.receive(200ms).empty());
}

// A seek to a time or past a message moves the group itself, as a commit would: another
// member that joins afterwards, and one restarted after reading without a commit, start at
// the same first message (before, only the seeking member passed over what came before).
TEST_P(SeekApi, AtTimeMovesTheGroupForANewMemberAndARestartedOne) {
  const auto topic = unique_name();
  auto keeper = consumer(topic, {.group = "keeper"});  // inproc frees what every group committed
  auto pro = producer(topic);
  const std::int64_t base = mes::unix_now_ns() - 3'600'000'000'000;
  send_spread(pro, 10, base);
  auto first = consumer(topic, {.group = "stage"});
  ASSERT_EQ(receive_n(first, 10, 10s).size(), 10u);
  ASSERT_EQ(first.commit(), Status::kOk);
  ASSERT_TRUE(sought(first.seek(topic, Position::at_time(at_ns(base + 6'500'000'000)))));
  EXPECT_EQ(first.stats().replay_skipped, 7u);
  // kafka: the topic's one partition stays with `first` until a rebalance: it leaves.
  if (!GetParam().shared_groups) first.close();
  {
    auto second = consumer(topic, {.group = "stage", .auto_commit = false});
    const auto got = receive_n(second, 3, 10s);
    EXPECT_EQ(names(got), range(7, 10))
        << "a new member did not start where the seek put the group";
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0].user_message(), "7");
    EXPECT_TRUE(second.receive(200ms).empty()) << "the new member got messages before the time";
    EXPECT_EQ(second.stats().replay_skipped, 0u) << "the group did not move: the member skipped";
    second.close();  // without a commit: the next one starts at the same place
  }
  auto restarted = consumer(topic, {.group = "stage"});
  EXPECT_EQ(names(receive_n(restarted, 3, 10s)), range(7, 10));
  EXPECT_TRUE(restarted.receive(200ms).empty())
      << "the restarted member got messages before the time";
}

// A seek moves the whole group: what another member received and did not commit is void
// too. Before the new position it is passed over (never again, not when that member leaves
// without a commit); from the position on the group reads it again.
TEST_P(SeekApi, AtTimeVoidsWhatAnotherMemberHeldUncommitted) {
  if (!GetParam().shared_groups) {
    GTEST_SKIP() << "needs two active members of one group; kafka gives the topic's one "
                    "partition to one of them, which one the broker's choice (kafka_test has "
                    "competing consumers)";
  }
  const auto topic = unique_name();
  auto keeper = consumer(topic, {.group = "keeper"});  // inproc frees what every group committed
  auto pro = producer(topic);
  const std::int64_t base = mes::unix_now_ns() - 3'600'000'000'000;
  send_spread(pro, 10, base);
  auto holder = consumer(topic, {.group = "stage", .auto_commit = false});
  ASSERT_EQ(names(receive_n(holder, 10, 10s)), range(0, 10));
  auto seeker = consumer(topic, {.group = "stage"});
  ASSERT_TRUE(sought(seeker.seek(topic, Position::at_time(at_ns(base + 5'000'000'000)))));
  holder.close();  // without a commit: what it held went void with the seek
  auto fresh = consumer(topic, {.group = "stage"});

  // Both read until 5..9 came, then on past redis's claim_idle_ms (2 s), when entries a
  // member left pending are claimed: nothing before the seek may come at any time.
  std::vector<std::string> got;
  std::vector<std::string> early;
  auto read_both = [&] {
    for (auto* member : {&seeker, &fresh}) {
      for (const auto& message : member->receive(100ms)) {
        const std::string name(message.user_message().value_or("?"));
        got.push_back(name);
        if (name.size() != 1 || name[0] < '5' || name[0] > '9') early.push_back(name);
      }
    }
  };
  auto distinct = [&] {
    auto unique = got;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    return unique;
  };
  const auto deadline = Clock::now() + 10s;
  while (distinct() != range(5, 10) && Clock::now() < deadline) read_both();
  const auto quiet_until = Clock::now() + 3s;
  while (Clock::now() < quiet_until) read_both();
  EXPECT_EQ(distinct(), range(5, 10)) << "the group did not read again from the seek's position";
  EXPECT_TRUE(early.empty()) << "messages before the seek came back: "
                             << ::testing::PrintToString(early)
                             << " (all got: " << ::testing::PrintToString(got) << ")";
}

TEST_P(SeekApi, AfterAnIdMovesTheGroupForANewMemberAndARestartedOne) {
  const auto topic = unique_name();
  auto keeper = consumer(topic, {.group = "keeper"});
  auto pro = producer(topic);
  const auto sent = send_spread(pro, 6, mes::unix_now_ns() - 1'000'000'000);
  auto first = consumer(topic, {.group = "stage"});
  ASSERT_EQ(receive_n(first, 6, 10s).size(), 6u);
  ASSERT_EQ(first.commit(), Status::kOk);
  ASSERT_TRUE(sought(first.seek(topic, Position::after(*sent[3].id()))));
  EXPECT_EQ(first.stats().replay_skipped, 4u);
  if (!GetParam().shared_groups) first.close();
  {
    auto second = consumer(topic, {.group = "stage", .auto_commit = false});
    EXPECT_EQ(names(receive_n(second, 2, 10s)), range(4, 6));
    EXPECT_TRUE(second.receive(200ms).empty()) << "the new member got the message or ones before";
    second.close();
  }
  auto restarted = consumer(topic, {.group = "stage"});
  EXPECT_EQ(names(receive_n(restarted, 2, 10s)), range(4, 6));
  EXPECT_TRUE(restarted.receive(200ms).empty());
}

// A time after every message held: the group goes past them all, and a new member reads
// only what comes.
TEST_P(SeekApi, AtTimeAfterEveryMessageMovesTheGroupPastThem) {
  const auto topic = unique_name();
  auto keeper = consumer(topic, {.group = "keeper"});
  auto pro = producer(topic);
  const std::int64_t base = mes::unix_now_ns() - 3'600'000'000'000;
  send_spread(pro, 3, base);
  auto first = consumer(topic, {.group = "stage"});
  ASSERT_EQ(receive_n(first, 3, 10s).size(), 3u);
  ASSERT_TRUE(sought(first.seek(topic, Position::at_time(at_ns(base + 60'000'000'000)))));
  first.close();
  auto next = consumer(topic, {.group = "stage"});
  EXPECT_TRUE(next.receive(300ms).empty()) << "messages before the time came";
  ASSERT_EQ(pro.send(mes::MessageBuilder().with_creator("test").with_user_msg("new").build()),
            Status::kOk);
  const auto got = receive_n(next, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user_message(), "new");
}

TEST_P(SeekApi, BeforeTheStartReplaysEverythingAndMovesTheGroupAsACommitWould) {
  const auto topic = unique_name();
  auto keeper = consumer(topic, {.group = "keeper"});  // inproc frees what every group committed
  auto pro = producer(topic);
  {
    auto con = consumer(topic, {.group = "stage"});
    send_spread(pro, 3, mes::unix_now_ns() - 1'000'000'000);
    ASSERT_EQ(receive_n(con, 3, 10s).size(), 3u);
    ASSERT_EQ(con.commit(), Status::kOk);
    // Before the epoch: before every message, so the earliest.
    ASSERT_TRUE(sought(con.seek(topic, Position::at_time(at_ns(-3'600'000'000'000)))));
    EXPECT_EQ(names(receive_n(con, 3, 10s)), range(0, 3));
    ASSERT_TRUE(sought(con.seek(topic, Position::earliest())));
    con.close();  // no commit: the seek itself moved the group
  }
  auto next = consumer(topic, {.group = "stage"});
  EXPECT_EQ(names(receive_n(next, 3, 10s)), range(0, 3));
}

TEST_P(SeekApi, LatestPassesOverWhatIsThereAndKeepsWhatComes) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage"});
  auto pro = producer(topic);
  send_spread(pro, 3, mes::unix_now_ns() - 1'000'000'000);
  ASSERT_TRUE(sought(con.seek(topic, Position::latest())));
  EXPECT_TRUE(con.receive(300ms).empty()) << "latest handed out old messages";
  ASSERT_EQ(pro.send(mes::MessageBuilder().with_creator("test").with_user_msg("new").build()),
            Status::kOk);
  const auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user_message(), "new");
}

TEST_P(SeekApi, AfterAnIdStartsWithTheNextMessage) {
  const auto topic = unique_name();
  auto keeper = consumer(topic, {.group = "keeper"});  // see AtTimeStartsExactly...
  auto con = consumer(topic, {.group = "stage", .auto_commit = false});
  auto pro = producer(topic);
  const auto sent = send_spread(pro, 5, mes::unix_now_ns() - 1'000'000'000);
  ASSERT_EQ(receive_n(con, 5, 10s).size(), 5u);
  ASSERT_TRUE(sought(con.seek(topic, Position::after(*sent[2].id()))));
  EXPECT_EQ(names(receive_n(con, 2, 10s)), range(3, 5));
  EXPECT_TRUE(con.receive(200ms).empty());

  // An id older than every message: everything; a zero id too.
  ASSERT_TRUE(sought(con.seek(topic, Position::after(mes::MessageId{}))));
  EXPECT_EQ(names(receive_n(con, 5, 10s)), range(0, 5));
}

TEST_P(SeekApi, PastTheEndPassesOverEverythingThenReadsWhatComes) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage"});
  auto pro = producer(topic);
  send_spread(pro, 3, mes::unix_now_ns() - 1'000'000'000);
  // An id made now is newer than every message held, but not from the future.
  const auto newest = mes::MessageId::generate(mes::unix_now_ns());
  ASSERT_TRUE(sought(con.seek(topic, Position::after(newest))));
  const auto deadline = Clock::now() + 10s;  // kafka fetches a while after a seek
  while (con.stats().replay_skipped < 3 && Clock::now() < deadline) {
    EXPECT_TRUE(con.receive(100ms).empty()) << "messages older than the id came";
  }
  EXPECT_EQ(con.stats().replay_skipped, 3u);
  ASSERT_EQ(pro.send(mes::MessageBuilder().with_creator("test").with_user_msg("new").build()),
            Status::kOk);
  const auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user_message(), "new");
}

TEST_P(SeekApi, HostileArgumentsAreRefusedWithTheReason) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage"});
  auto pro = producer(topic);
  send_spread(pro, 2, mes::unix_now_ns() - 1'000'000'000);

  auto refused = con.seek(unique_name("other"), Position::earliest());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("not subscribed"), std::string::npos)
      << refused.error().message;
  refused = con.seek("", Position::earliest());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);

  refused = con.seek(topic, Position::at_time(system_clock::now() + std::chrono::hours(1)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("future"), std::string::npos) << refused.error().message;
  refused = con.seek(topic, Position::at_time(system_clock::time_point::max()));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  const mes::MessageId from_future{~std::uint64_t{0}, ~std::uint64_t{0}};
  refused = con.seek(topic, Position::after(from_future));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  // The refusals moved nothing: both messages still come.
  EXPECT_EQ(names(receive_n(con, 2, 10s)), range(0, 2));

  // The earliest instant representable: before every message.
  ASSERT_TRUE(sought(con.seek(topic, Position::at_time(system_clock::time_point::min()))));
  EXPECT_EQ(names(receive_n(con, 2, 10s)), range(0, 2));

  ASSERT_TRUE(con.unsubscribe());
  refused = con.seek(topic, Position::earliest());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  con.close();
  refused = con.seek(topic, Position::earliest());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  Consumer moved = std::move(con);
  refused = con.seek(topic, Position::latest());  // NOLINT(bugprone-use-after-move): tested
  ASSERT_FALSE(refused);
}

TEST_P(SeekApi, ConsumerWithoutGroupSeeksToo) {
  const auto topic = unique_name();
  auto keeper = consumer(topic, {.group = "keeper"});
  auto con = consumer(topic);
  auto pro = producer(topic);
  send_spread(pro, 3, mes::unix_now_ns() - 1'000'000'000);
  ASSERT_EQ(receive_n(con, 3, 10s).size(), 3u);
  ASSERT_EQ(con.commit(), Status::kOk);
  ASSERT_TRUE(sought(con.seek(topic, Position::earliest())));
  EXPECT_EQ(names(receive_n(con, 3, 10s)), range(0, 3));
}

INSTANTIATE_TEST_SUITE_P(Backends, SeekApi, ::testing::ValuesIn(backend_cases()), backend_name);

}  // namespace
}  // namespace mlops::orchestration::testing
