// Nothing piles up on the server or in the consumer: members that died leave the group once
// their entries were claimed, a group-less consumer's own group goes at close(), and topics
// left are forgotten once nothing of them is left to acknowledge.
#include <hiredis/hiredis.h>

#include "orchestration/redis/redis_consumer.h"
#include "orchestration/redis/redis_settings.h"
#include "support/redis_test_support.h"

namespace mlops::orchestration::testing {
namespace {

using mlops::testing::RedisServer;

/// Elements of the reply to `command` (XINFO CONSUMERS/GROUPS: one per member/group).
std::size_t count_of(const RedisServer& server, const std::string& command) {
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  if (raw == nullptr || raw->err != 0) return 999;
  auto* reply = static_cast<redisReply*>(redisCommand(raw, command.c_str()));
  const std::size_t count =
      reply != nullptr && reply->type == REDIS_REPLY_ARRAY ? reply->elements : 999;
  freeReplyObject(reply);
  redisFree(raw);
  return count;
}

void run_raw(const RedisServer& server, const std::string& command) {
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_TRUE(raw != nullptr && raw->err == 0);
  auto* reply = static_cast<redisReply*>(redisCommand(raw, command.c_str()));
  ASSERT_NE(reply, nullptr);
  EXPECT_NE(reply->type, REDIS_REPLY_ERROR)
      << command << ": " << std::string(reply->str, reply->len);
  freeReplyObject(reply);
  redisFree(raw);
}

// Dead members (here: read with raw hiredis, never acknowledged, never back) are removed once
// another member claimed their entries; the live member stays.
TEST(RedisCleanup, DeadMembersLeaveTheGroupOnceTheirEntriesWereClaimed) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server, "claim_idle_ms=200"));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "work");
  ASSERT_TRUE(pro);
  run_raw(server, "XGROUP CREATE work g 0 MKSTREAM");
  for (std::int64_t n = 0; n < 6; ++n) ASSERT_EQ(pro->send(numbered(n), true), Status::kOk);
  for (int ghost = 0; ghost < 3; ++ghost) {
    run_raw(server, "XREADGROUP GROUP g ghost" + std::to_string(ghost) + " COUNT 2 STREAMS work >");
  }
  run_raw(server, "XGROUP CREATECONSUMER work g idle-empty");  // a member that read nothing
  ASSERT_EQ(count_of(server, "XINFO CONSUMERS work g"), 4u);
  auto con = Consumer::create("work", *orch, {.group = "g"});
  ASSERT_TRUE(con);
  EXPECT_EQ(numbers_of(receive_n(*con, 6, 10s)).size(), 6u)
      << "the dead members' entries are claimed";
  // Removal runs after a claim pass, at most once per claim_idle_ms: keep polling until then.
  const auto deadline = Clock::now() + 10s;
  while (count_of(server, "XINFO CONSUMERS work g") != 1 && Clock::now() < deadline) {
    (void)con->receive({}, 100ms);
  }
  EXPECT_EQ(count_of(server, "XINFO CONSUMERS work g"), 1u) << "only the live member is left";
}

// A member with entries pending is never removed, however idle: its entries must stay
// claimable (XGROUP DELCONSUMER would drop them).
TEST(RedisCleanup, IdleMemberWithPendingEntriesIsKept) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  // A lease longer than the test: nothing is claimed from the holder.
  auto orch = Orchestration::from_uri(redis_uri(server, "claim_idle_ms=60000"));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "work");
  ASSERT_TRUE(pro);
  run_raw(server, "XGROUP CREATE work g 0 MKSTREAM");
  ASSERT_EQ(pro->send(numbered(1), true), Status::kOk);
  run_raw(server, "XREADGROUP GROUP g holder COUNT 1 STREAMS work >");
  auto con = Consumer::create("work", *orch, {.group = "g"});
  ASSERT_TRUE(con);
  EXPECT_TRUE(con->receive({}, 300ms).empty());
  EXPECT_EQ(count_of(server, "XINFO CONSUMERS work g"), 2u);
  EXPECT_EQ(count_of(server, "XPENDING work g - + 10 holder"), 1u);
}

TEST(RedisCleanup, GrouplessConsumerRemovesItsOwnGroupAtClose) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "t");
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(1), true), Status::kOk);
  {
    auto con = Consumer::create("t", *orch, {.offset_reset = OffsetReset::kEarliest});
    ASSERT_TRUE(con);
    EXPECT_EQ(receive_n(*con, 1).size(), 1u);
    EXPECT_EQ(count_of(server, "XINFO GROUPS t"), 1u);
  }
  EXPECT_EQ(count_of(server, "XINFO GROUPS t"), 0u) << "its own group went with it";
}

TEST(RedisCleanup, TopicsLeftAreForgottenOnceNothingIsLeftToAcknowledge) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto settings = detail::redis::parse_connection(server.address());
  ASSERT_TRUE(settings) << settings.error().message;
  detail::redis::RedisConsumer consumer(*settings, ConsumerOptions{.group = "g"});
  std::vector<detail::Delivery> out;
  for (int round = 0; round < 20; ++round) {
    const std::vector<std::string> topics = {"t" + std::to_string(round)};
    ASSERT_TRUE(consumer.assign(topics));
    (void)consumer.poll(out, 1, Clock::now() + 1ms);
  }
  EXPECT_LE(consumer.retired_topics(), 1u) << "every topic left was kept";
}

}  // namespace
}  // namespace mlops::orchestration::testing
