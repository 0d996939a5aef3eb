// Admin::lag() on redis: a group's lag is what it has not acknowledged (not yet delivered
// plus pending), in the same sense as mmap and kafka; XINFO's nil lag (entries deleted after
// a group's position) is counted by hand; missing streams, groups and servers give clear
// errors within the timeout.
#include <hiredis/hiredis.h>

#include "support/redis_test_support.h"

namespace mlops::orchestration::testing {
namespace {

using mlops::testing::RedisServer;

/// A plain hiredis connection for setting up what the library would not do itself.
class Raw {
 public:
  explicit Raw(int port) : context_(redisConnect("127.0.0.1", port)) {}
  ~Raw() { redisFree(context_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  [[nodiscard]] bool ok() const { return context_ != nullptr && context_->err == 0; }
  /// The reply's text (an id, a status), or its integer as text.
  std::string run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    std::string text = reply == nullptr                     ? "(no reply)"
                       : reply->type == REDIS_REPLY_INTEGER ? std::to_string(reply->integer)
                       : reply->type == REDIS_REPLY_ARRAY   ? std::to_string(reply->elements)
                       : reply->str != nullptr              ? std::string(reply->str, reply->len)
                                                            : "";
    freeReplyObject(reply);
    return text;
  }

 private:
  redisContext* context_;
};

const GroupLag* group_of(const TopicLag& topic, const std::string& name) {
  for (const auto& group : topic.groups) {
    if (group.group == name) return &group;
  }
  return nullptr;
}

TEST(RedisLag, LagIsUndeliveredPlusPendingAndFallsAsTheGroupCommits) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  auto con = Consumer::create("lagged", *orch, {.group = "g1", .auto_commit = false});
  ASSERT_TRUE(con) << con.error().message;
  auto pro = Producer::create(*orch, "lagged");
  ASSERT_TRUE(pro);
  for (std::int64_t n = 0; n < 5; ++n) ASSERT_EQ(pro->send(numbered(n), true), Status::kOk);

  auto before = admin->lag("lagged");
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].messages, 5u);
  EXPECT_EQ((*before)[0].end - (*before)[0].start, 5u);
  ASSERT_NE(group_of((*before)[0], "g1"), nullptr);
  EXPECT_EQ(group_of((*before)[0], "g1")->lag, 5u);

  ASSERT_EQ(receive_n(*con, 2).size(), 2u);
  auto received = admin->lag("lagged", std::vector<std::string>{"g1"});
  ASSERT_TRUE(received);
  ASSERT_EQ((*received)[0].groups.size(), 1u);
  EXPECT_EQ((*received)[0].groups[0].lag, 5u) << "received but not committed: still lag";

  ASSERT_EQ(con->commit(), Status::kOk);
  auto committed = admin->lag("lagged", std::vector<std::string>{"g1"});
  ASSERT_TRUE(committed);
  const GroupLag& g1 = (*committed)[0].groups[0];
  EXPECT_EQ(g1.lag, 3u);
  ASSERT_TRUE(g1.committed.has_value());
  EXPECT_EQ((*committed)[0].end - *g1.committed, g1.lag)
      << "lag is end minus committed, as on kafka";

  ASSERT_EQ(receive_n(*con, 3).size(), 3u);
  ASSERT_EQ(con->commit(), Status::kOk);
  auto drained = admin->lag("lagged", std::vector<std::string>{"g1"});
  ASSERT_TRUE(drained);
  EXPECT_EQ((*drained)[0].groups[0].lag, 0u);
  EXPECT_EQ((*drained)[0].groups[0].committed, (*drained)[0].end);
}

TEST(RedisLag, GroupsAreListedSortedWithoutTheBackendsOwnAndNamedAbsentOnesReadNothing) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "t");
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(1), true), Status::kOk);
  auto zed = Consumer::create("t", *orch, {.group = "zed"});
  auto alpha = Consumer::create("t", *orch, {.group = "alpha"});
  auto groupless = Consumer::create("t", *orch, {});  // a group of its own while it lives
  ASSERT_TRUE(zed && alpha && groupless);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->create_topic("other"));
  auto all = admin->lag();
  ASSERT_TRUE(all) << all.error().message;
  const auto find = [&](const std::string& name) -> const TopicLag* {
    for (const auto& topic : *all) {
      if (topic.topic == name) return &topic;
    }
    return nullptr;
  };
  for (std::size_t i = 1; i < all->size(); ++i) EXPECT_LT((*all)[i - 1].topic, (*all)[i].topic);
  ASSERT_NE(find("other"), nullptr);
  EXPECT_TRUE(find("other")->groups.empty()) << "create_topic's own group is gone or hidden";
  ASSERT_NE(find("t"), nullptr);
  ASSERT_EQ(find("t")->groups.size(), 2u) << "the group-less consumer's own group is hidden";
  EXPECT_EQ(find("t")->groups[0].group, "alpha");
  EXPECT_EQ(find("t")->groups[1].group, "zed");

  auto named = admin->lag("t", std::vector<std::string>{"never-here"});
  ASSERT_TRUE(named);
  ASSERT_EQ((*named)[0].groups.size(), 1u);
  EXPECT_EQ((*named)[0].groups[0].lag, 1u) << "a group absent on the stream has read nothing";
  EXPECT_FALSE((*named)[0].groups[0].committed.has_value());
  auto none = admin->lag("t", std::vector<std::string>{});
  ASSERT_TRUE(none);
  EXPECT_TRUE((*none)[0].groups.empty());
}

// XINFO GROUPS gives a nil lag once an entry after the group's position was deleted (XDEL):
// the backend counts the entries after it instead.
TEST(RedisLag, NilLagFromXinfoIsCountedByHand) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  Raw raw(server.port());
  ASSERT_TRUE(raw.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(raw.run({"XADD", "holes", "*", "m", "x"}));
  ASSERT_EQ(raw.run({"XGROUP", "CREATE", "holes", "g", "0"}), "OK");
  ASSERT_EQ(raw.run({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "holes", ">"}), "1");
  ASSERT_EQ(raw.run({"XDEL", "holes", ids[2]}), "1");
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  auto lag = admin->lag("holes", std::vector<std::string>{"g"});
  ASSERT_TRUE(lag) << lag.error().message;
  EXPECT_EQ((*lag)[0].messages, 3u);
  // Not delivered: ids[1] and ids[3]; pending: ids[0].
  EXPECT_EQ((*lag)[0].groups[0].lag, 3u);
}

TEST(RedisLag, PendingEntriesTrimmedAwayAreNoLongerLag) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  Raw raw(server.port());
  ASSERT_TRUE(raw.ok());
  for (int i = 0; i < 10; ++i) raw.run({"XADD", "trimmed", "*", "m", "x"});
  ASSERT_EQ(raw.run({"XGROUP", "CREATE", "trimmed", "g", "0"}), "OK");
  // Eight read and never acknowledged, then all but the last three trimmed away.
  ASSERT_EQ(raw.run({"XREADGROUP", "GROUP", "g", "c", "COUNT", "8", "STREAMS", "trimmed", ">"}),
            "1");
  ASSERT_EQ(raw.run({"XTRIM", "trimmed", "MAXLEN", "3"}), "7");
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  auto lag = admin->lag("trimmed", std::vector<std::string>{"g"});
  ASSERT_TRUE(lag) << lag.error().message;
  EXPECT_EQ((*lag)[0].messages, 3u);
  // Pending 8 (7 of them gone) plus 2 undelivered: only what the stream holds can come.
  EXPECT_EQ((*lag)[0].groups[0].lag, 3u);
}

TEST(RedisLag, MissingStreamOtherTypeAndDeadServerAreClearErrorsWithinTheTimeout) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  Raw raw(server.port());
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw.run({"SET", "plain", "x"}), "OK");
  auto orch = Orchestration::from_uri(redis_uri(server, "timeout_ms=500"));
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  auto missing = admin->lag("no-such-stream");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound) << missing.error().message;
  auto plain = admin->lag("plain");
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, ErrorCode::kNotFound) << plain.error().message;
  auto bad_group = admin->lag("plain", std::vector<std::string>{"bad group"});
  ASSERT_FALSE(bad_group);
  EXPECT_EQ(bad_group.error().code, ErrorCode::kInvalidArgument);

  server.kill();
  Result<std::vector<TopicLag>> dead = std::vector<TopicLag>{};
  const auto took = time_of([&] { dead = admin->lag(); });
  ASSERT_FALSE(dead);
  EXPECT_EQ(dead.error().code, ErrorCode::kUnavailable) << dead.error().message;
  EXPECT_LT(took, 2s);
}

// Many groups and members: one lag call lists them all, each with its figure.
TEST(RedisLag, ManyGroupsAreAllReported) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  Raw raw(server.port());
  ASSERT_TRUE(raw.ok());
  raw.run({"XADD", "wide", "*", "m", "x"});
  constexpr int kGroups = 500;
  for (int i = 0; i < kGroups; ++i) {
    const std::string group = "g" + std::to_string(i);
    ASSERT_EQ(raw.run({"XGROUP", "CREATE", "wide", group, "0"}), "OK");
    if (i % 2 == 0) raw.run({"XREADGROUP", "GROUP", group, "c", "STREAMS", "wide", ">"});
  }
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  auto lag = admin->lag("wide");
  ASSERT_TRUE(lag) << lag.error().message;
  ASSERT_EQ((*lag)[0].groups.size(), static_cast<std::size_t>(kGroups));
  for (const auto& group : (*lag)[0].groups) {
    EXPECT_EQ(group.lag, 1u) << group.group << ": read (pending) or not, nothing is acknowledged";
  }
}

}  // namespace
}  // namespace mlops::orchestration::testing
