// send(message, true) on redis tells a refused XADD (Redis answered with an error, so it
// stored nothing: kError) from one whose fate is unknown (kDeliveryUnknown), message by
// message: another message's refusal does not taint a confirmed one.
#include <hiredis/hiredis.h>

#include "support/redis_test_support.h"

namespace mlops::orchestration::testing {
namespace {

using mlops::testing::RedisServer;

void set_plain_key(const RedisServer& server, const char* key) {
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_TRUE(raw != nullptr && raw->err == 0);
  auto* reply = static_cast<redisReply*>(redisCommand(raw, "SET %s text", key));
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->type, REDIS_REPLY_STATUS);
  freeReplyObject(reply);
  redisFree(raw);
}

TEST(RedisConfirm, FlushedSendToAKeyOfAnotherTypeIsADefiniteError) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  set_plain_key(server, "plain");
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  std::vector<Status> reports;
  auto pro = Producer::create(*orch, "plain", {.on_delivery = [&](const DeliveryReport& r) {
    reports.push_back(r.status);
  }});
  ASSERT_TRUE(pro);
  EXPECT_EQ(pro->send(numbered(1), true), Status::kError) << "WRONGTYPE: certainly not stored";
  EXPECT_EQ(reports, std::vector<Status>{Status::kError});
  EXPECT_EQ(pro->flush(1s), Status::kOk) << "the refusal was reported once, by the send";
}

// attack6 F6: a send without flush to a key of another type was reported only as a failed
// close ("may or may not be held"); its report says not held, and the log says why.
TEST(RedisConfirm, SendToAKeyOfAnotherTypeIsReportedNotHeldNamingTheKey) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  set_plain_key(server, "plain");
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  std::vector<Status> reports;
  LogCapture log;
  auto pro = Producer::create(*orch, "plain", {.on_delivery = [&](const DeliveryReport& r) {
    reports.push_back(r.status);
  }});
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(1)), Status::kOk) << "queued; Redis answers later";
  ASSERT_EQ(pro->send(numbered(2)), Status::kOk);
  EXPECT_EQ(pro->close(), Status::kError);
  EXPECT_EQ(reports, (std::vector<Status>{Status::kError, Status::kError})) << "certainly not held";
  EXPECT_GE(log.count(LogLevel::kError, "key 'plain' holds another type, not a stream"), 1U)
      << "the refusal names the key and what is wrong with it";
  EXPECT_GE(log.count(LogLevel::kError, "WRONGTYPE"), 1U) << "and keeps the server's words";
}

TEST(RedisConfirm, AnotherMessagesRefusalDoesNotTaintAConfirmedOne) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  set_plain_key(server, "plain");
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch);
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(1, TopicList{"plain"})), Status::kOk);  // refused later
  EXPECT_EQ(pro->send(numbered(2, TopicList{"good"}), true), Status::kOk)
      << "held: the earlier message's refusal is not this one's";
  EXPECT_EQ(pro->send(numbered(3, TopicList{std::vector<std::string>{"good", "plain"}}), true),
            Status::kError)
      << "one copy refused: the first failure";
  auto con =
      Consumer::create("good", *orch, {.group = "g", .offset_reset = OffsetReset::kEarliest});
  ASSERT_TRUE(con);
  EXPECT_EQ(numbers_of(receive_n(*con, 2)), (std::vector<std::int64_t>{2, 3}));
}

TEST(RedisConfirm, ALostConnectionLeavesTheFlushedSendUnknownNotFailed) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server, "timeout_ms=500&reconnect_backoff_ms=100"));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "t", {.flush_timeout = 1s});
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(0), true), Status::kOk);
  // Stopped (SIGSTOP): the XADD is written, its reply never comes.
  server.pause();
  const Status status = pro->send(numbered(1), true);
  server.resume();
  EXPECT_EQ(status, Status::kDeliveryUnknown);
}

}  // namespace
}  // namespace mlops::orchestration::testing
