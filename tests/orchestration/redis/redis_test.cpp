// The redis backend against a redis-server of each test's own: clear errors for a wrong
// port, a wrong password, a listener that is not Redis or never answers; options and URIs;
// admin; foreign entries; back-pressure; sizes.
#include <hiredis/hiredis.h>

#include <map>
#include <set>

#include "orchestration/redis/redis_settings.h"
#include "support/redis_test_support.h"

namespace mlops::orchestration::testing {
namespace {

using mlops::testing::RedisServer;

Result<void> validate(const std::string& uri, std::chrono::milliseconds timeout = 2s) {
  auto orch = Orchestration::from_uri(uri);
  if (!orch) return orch.error();
  auto admin = Admin::create(*orch);
  if (!admin) return admin.error();
  return admin->validate_connection(timeout);
}

TEST(RedisConnection, WrongPortIsRefusedClearlyWithin2Seconds) {
  const int port = mlops::testing::free_loopback_port();
  const std::string uri = "redis://127.0.0.1:" + std::to_string(port) + "?timeout_ms=2000";
  Result<void> result;
  EXPECT_LT(time_of([&] { result = validate(uri); }), 2s);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("connection refused"), std::string::npos)
      << result.error().message;

  auto orch = Orchestration::from_uri(uri);
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "t", {.send_timeout = 500ms});
  ASSERT_TRUE(pro);
  Status status = Status::kOk;
  EXPECT_LT(time_of([&] { status = pro->send(numbered(1)); }), 2s);
  EXPECT_EQ(status, Status::kError);
  auto con = Consumer::create("t", *orch);
  ASSERT_FALSE(con);
  EXPECT_NE(con.error().message.find("unreachable"), std::string::npos) << con.error().message;
}

TEST(RedisConnection, WrongOrMissingPasswordSaysAuthenticationFailed) {
  RedisServer server("requirepass right-secret\n");
  MLOPS_START_REDIS(server);
  for (const std::string options : {"password=wrong-secret", "", "user=nobody&password=x"}) {
    Result<void> result;
    EXPECT_LT(time_of([&] { result = validate(redis_uri(server, options)); }), 2s);
    ASSERT_FALSE(result) << options;
    EXPECT_NE(result.error().message.find("authentication failed"), std::string::npos)
        << result.error().message;
    EXPECT_EQ(result.error().message.find("wrong-secret"), std::string::npos)
        << "the password must never be shown: " << result.error().message;
  }
  EXPECT_TRUE(validate(redis_uri(server, "password=right-secret")));
  // In the URI too, and a message goes through.
  auto orch = Orchestration::from_uri("redis://right-secret@" + server.address());
  ASSERT_TRUE(orch) << orch.error().message;
  auto con = Consumer::create("t", *orch);
  ASSERT_TRUE(con) << con.error().message;
  auto pro = Producer::create(*orch, "t");
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(5), true), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(*con, 1)), std::vector<std::int64_t>{5});
}

TEST(RedisConnection, ListenerThatIsNotRedisIsNamedSo) {
  FakeListener http("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  ASSERT_NE(http.port(), 0);
  Result<void> result;
  EXPECT_LT(time_of([&] { result = validate("redis://127.0.0.1:" + std::to_string(http.port())); }),
            2s);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("not a Redis server"), std::string::npos)
      << result.error().message;
}

// A peer that streams a bulk string without end (here 4 MiB of it) is refused once it has
// sent more than a handshake's reply could be, not buffered until the deadline.
TEST(RedisConnection, ListenerThatFloodsIsRefusedBeforeItsDataIsBuffered) {
  FakeListener flood("$1000000000\r\n" + std::string(4 << 20, 'a'));
  ASSERT_NE(flood.port(), 0);
  Result<void> result;
  EXPECT_LT(
      time_of([&] { result = validate("redis://127.0.0.1:" + std::to_string(flood.port()), 5s); }),
      2s);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("not a Redis server"), std::string::npos)
      << result.error().message;
}

// Defect 3 of attack 16: a peer announcing a reply of 2^31 - 1 elements is refused at once
// (hiredis would calloc 16 GiB and walk it when freeing), within the timeout.
TEST(RedisConnection, HugeMultibulkCountIsRefusedWithinItsTimeout) {
  for (const std::string answer : {"*2147483647\r\n", "*100000000\r\n"}) {
    FakeListener listener(answer);
    ASSERT_NE(listener.port(), 0);
    Result<void> result;
    const auto took = time_of([&] {
      result = validate("redis://127.0.0.1:" + std::to_string(listener.port()) + "?timeout_ms=800",
                        800ms);
    });
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(result.error().message.find("not a Redis server"), std::string::npos)
        << result.error().message;
    EXPECT_LT(took, 3s);
  }
}

TEST(RedisConnection, ListenerThatNeverAnswersTimesOutWithinItsTimeout) {
  FakeListener silent("");
  ASSERT_NE(silent.port(), 0);
  const std::string uri = "redis://127.0.0.1:" + std::to_string(silent.port()) + "?timeout_ms=1000";
  Result<void> result;
  const auto took = time_of([&] { result = validate(uri, 1s); });
  EXPECT_LT(took, 2s);
  EXPECT_GE(took, 900ms);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("no Redis reply in time"), std::string::npos)
      << result.error().message;
  // A producer's send is bounded by its send_timeout, a consumer's subscribe by timeout_ms.
  auto orch = Orchestration::from_uri(uri);
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "t", {.send_timeout = 300ms});
  ASSERT_TRUE(pro);
  Status status = Status::kOk;
  EXPECT_LT(time_of([&] { status = pro->send(numbered(1)); }), 1s);
  EXPECT_EQ(status, Status::kError);
  EXPECT_LT(time_of([&] { EXPECT_FALSE(Consumer::create("t", *orch)); }), 2s);
}

TEST(RedisOptions, MalformedUrisAndOptionsAreRefusedWithTheirName) {
  for (const std::string uri :
       {"redis://localhost:notaport", "redis://localhost:70000", "redis://localhost:6379/x",
        "redis://localhost?timeout_ms=0", "redis://localhost?claim_idle_ms=abc",
        "redis://localhost?max_in_flight=-1"}) {
    auto orch = Orchestration::from_uri(uri);
    EXPECT_FALSE(orch) << uri;
  }
  auto secret = Orchestration::from_uri("redis://localhost?password=");
  EXPECT_TRUE(secret);  // an empty password is no password
  auto producer_options = Orchestration::from_uri("redis://localhost");
  ASSERT_TRUE(producer_options);
  auto pro = Producer::create(*producer_options, "t", {.backend = {{"maxlen", "many"}}});
  ASSERT_FALSE(pro);
  EXPECT_NE(pro.error().message.find("maxlen"), std::string::npos);
}

// Defect 7 of attack 16: "[::1]:PORT" is an IPv6 host and port; a port without a host is
// refused (not localhost); a user and password are percent-decoded, so one holding '?',
// '&', '@' or ':' can be written, and it goes through to a real server.
TEST(RedisOptions, Ipv6HostMissingHostAndPercentEncodedCredentials) {
  using detail::redis::parse_connection;
  auto v6 = parse_connection("[::1]:7001/2");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7001);
  EXPECT_EQ(v6->db, 2);
  EXPECT_EQ(v6->where(), "[::1]:7001/2");
  for (const std::string bad :
       {":7001", "pw@:7001", "[::1", "[::1]x", "::1:7001", "a%4@host", "a%zz@host"}) {
    auto parsed = parse_connection(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  auto encoded = parse_connection("us%3Aer:p%3Fw%26d%40%25@host:7002");
  ASSERT_TRUE(encoded) << encoded.error().message;
  EXPECT_EQ(encoded->user, "us:er");
  EXPECT_EQ(encoded->password, "p?w&d@%");
  EXPECT_EQ(encoded->host, "host");
  EXPECT_EQ(encoded->port, 7002);

  RedisServer server("requirepass \"p?w&d\"\n");
  MLOPS_START_REDIS(server);
  EXPECT_TRUE(validate("redis://p%3Fw%26d@" + server.address()));
}

TEST(RedisAdmin, TopicsAreTheStreamsOnlyAndCreateTopicRefusesOtherTypes) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->create_topic("b-stream"));
  ASSERT_TRUE(admin->create_topic("a-stream"));
  ASSERT_TRUE(admin->create_topic("a-stream"));  // exists: fine
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_NE(raw, nullptr);
  ASSERT_EQ(raw->err, 0);
  freeReplyObject(redisCommand(raw, "SET plain-string x"));
  redisFree(raw);
  auto topics = admin->topics();
  ASSERT_TRUE(topics) << topics.error().message;
  EXPECT_EQ(*topics, (std::vector<std::string>{"a-stream", "b-stream"}));
  auto wrong = admin->create_topic("plain-string");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("not a stream"), std::string::npos);
}

TEST(RedisConsumer, ForeignEntriesOfOtherClientsAreSkippedCountedAndAcknowledged) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto con = Consumer::create("t", *orch, {.group = "g"});
  ASSERT_TRUE(con);
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_NE(raw, nullptr);
  freeReplyObject(redisCommand(raw, "XADD t * other-field hello"));
  freeReplyObject(redisCommand(raw, "XADD t * m not-a-flatbuffer"));
  freeReplyObject(redisCommand(raw, "XADD t * m x extra y"));
  auto pro = Producer::create(*orch, "t");
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(9), true), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(*con, 1)), std::vector<std::int64_t>{9});
  EXPECT_EQ(con->stats().skipped_corrupt, 3u);
  ASSERT_EQ(con->commit(), Status::kOk);
  auto* pending = static_cast<redisReply*>(redisCommand(raw, "XPENDING t g"));
  ASSERT_NE(pending, nullptr);
  ASSERT_EQ(pending->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(pending->element[0]->integer, 0) << "every entry handed out is acknowledged";
  freeReplyObject(pending);
  redisFree(raw);
}

// Members do not pile up in a group: one that closes with nothing pending leaves it; one
// that closes with entries uncommitted stays until another member has claimed them.
TEST(RedisConsumer, ClosedMemberLeavesTheGroupOnlyWithNothingPending) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "members");
  ASSERT_TRUE(pro);
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_NE(raw, nullptr);
  auto members = [&] {
    auto* reply = static_cast<redisReply*>(redisCommand(raw, "XINFO CONSUMERS members g"));
    const auto count = reply != nullptr && reply->type == REDIS_REPLY_ARRAY ? reply->elements : 99;
    freeReplyObject(reply);
    return count;
  };
  {
    auto con = Consumer::create("members", *orch, {.group = "g"});
    ASSERT_TRUE(con);
    ASSERT_EQ(pro->send(numbered(1), true), Status::kOk);
    ASSERT_EQ(receive_n(*con, 1).size(), 1u);
    ASSERT_EQ(con->commit(), Status::kOk);
  }
  EXPECT_EQ(members(), 0u);
  {
    auto con = Consumer::create("members", *orch, {.group = "g", .auto_commit = false});
    ASSERT_TRUE(con);
    ASSERT_EQ(pro->send(numbered(2), true), Status::kOk);
    ASSERT_EQ(receive_n(*con, 1).size(), 1u);
  }
  EXPECT_EQ(members(), 1u) << "its uncommitted entry stays pending on it, for others to claim";
  redisFree(raw);
}

// Defect 5 of attack 16: XREADGROUP's COUNT applies to each stream; receive(max) over
// several topics still hands out at most max, and the rest comes with the next receives
// (none lost, none twice).
TEST(RedisConsumer, ReceiveMaxIsHonouredAcrossSeveralTopics) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(orch);
  auto con = Consumer::create(TopicList{std::vector<std::string>{"ta", "tb"}}, *orch,
                              {.group = "g", .max_batch = 3});
  ASSERT_TRUE(con) << con.error().message;
  auto to_a = Producer::create(*orch, "ta");
  auto to_b = Producer::create(*orch, "tb");
  ASSERT_TRUE(to_a && to_b);
  for (std::int64_t n = 0; n < 8; ++n) {
    ASSERT_EQ((n % 2 == 0 ? *to_a : *to_b).send(numbered(n), true), Status::kOk);
  }
  std::multiset<std::int64_t> got;
  const auto deadline = Clock::now() + 10s;
  bool once_one = false;
  while (got.size() < 8 && Clock::now() < deadline) {
    const std::size_t max = once_one ? 0 : 1;  // first max=1, then max_batch (3)
    const auto batch = con->receive({}, 500ms, max);
    if (!batch.empty() && !once_one) {
      EXPECT_EQ(batch.size(), 1u) << "receive(max=1) handed out more";
      once_one = true;
    } else {
      EXPECT_LE(batch.size(), 3u) << "receive() handed out more than max_batch";
    }
    for (const auto& message : batch) got.insert(number_of(message));
    ASSERT_EQ(con->commit(), Status::kOk);
  }
  EXPECT_EQ(got, (std::multiset<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(con->receive({}, 200ms, 0).empty()) << "something came twice";
}

// Defect 9 of attack 16: statuses on the documented contract. Consumer::create on a key
// that is no stream is kInvalidArgument with Redis's reason (as Admin::create_topic); a
// send without flush never returns kDeliveryUnknown (not among send()'s statuses without
// flush), even when the server dies under it.
TEST(RedisProducer, StatusesStayOnTheDocumentedContract) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server, "timeout_ms=500&reconnect_backoff_ms=100"));
  ASSERT_TRUE(orch);
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  ASSERT_NE(raw, nullptr);
  freeReplyObject(redisCommand(raw, "SET plain text"));
  redisFree(raw);
  auto con = Consumer::create("plain", *orch, {.group = "g"});
  ASSERT_FALSE(con);
  EXPECT_EQ(con.error().code, ErrorCode::kInvalidArgument) << con.error().message;
  EXPECT_NE(con.error().message.find("WRONGTYPE"), std::string::npos) << con.error().message;

  auto pro = Producer::create(*orch, "live");
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(0), true), Status::kOk);
  server.kill();
  std::map<Status, int> seen;
  for (int i = 1; i <= 20; ++i) ++seen[pro->send(numbered(i))];
  EXPECT_EQ(seen.count(Status::kDeliveryUnknown), 0u)
      << "send() without flush returned delivery_unknown " << seen[Status::kDeliveryUnknown]
      << " times";
  EXPECT_GT(seen[Status::kError], 0) << "sends to a dead server must fail";
  EXPECT_NE(pro->flush(500ms), Status::kOk);
}

TEST(RedisProducer, TooLargeIsRefusedAndAHugePayloadGoesThrough) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server, "max_message_bytes=100000"));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "t");
  ASSERT_TRUE(pro);
  messaging::MessageBuilder big;
  big.with_msg_type(messaging::MessageType::START).with_user_msg(std::string(200'000, 'x'));
  EXPECT_EQ(pro->send(big.build()), Status::kTooLarge);
  // Under the limit, a large payload (8 MiB) arrives whole.
  auto roomy = Orchestration::from_uri(redis_uri(server));
  ASSERT_TRUE(roomy);
  auto con = Consumer::create("big", *roomy);
  ASSERT_TRUE(con);
  auto big_pro = Producer::create(*roomy, "big");
  ASSERT_TRUE(big_pro);
  messaging::MessageBuilder huge;
  huge.with_msg_type(messaging::MessageType::START).with_user_msg(std::string(8 << 20, 'y'));
  const auto sent = huge.build();
  ASSERT_EQ(big_pro->send(sent, true), Status::kOk);
  const auto got = receive_n(*con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(std::ranges::equal(got[0].bytes(), sent.bytes()));
}

TEST(RedisProducer, BackPressuredWhileTheServerDoesNotAnswer) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri(redis_uri(server, "max_in_flight=4&pipeline_messages=1"));
  ASSERT_TRUE(orch);
  auto pro = Producer::create(*orch, "t", {.back_pressure = BackPressure::kReturn});
  ASSERT_TRUE(pro);
  ASSERT_EQ(pro->send(numbered(0), true), Status::kOk);  // connected
  server.pause();
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(pro->send(numbered(i)), Status::kOk) << i;
  EXPECT_EQ(pro->send(numbered(5)), Status::kBackPressured);
  EXPECT_EQ(pro->flush(200ms), Status::kTimeout);
  server.resume();
  EXPECT_EQ(pro->flush(5s), Status::kOk);
  EXPECT_EQ(pro->send(numbered(5)), Status::kOk);
  auto blocking = Producer::create(*orch, "t", {.send_timeout = 300ms});
  ASSERT_TRUE(blocking);
  ASSERT_EQ(blocking->send(numbered(0), true), Status::kOk);
  server.pause();
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(blocking->send(numbered(i)), Status::kOk) << i;
  Status status = Status::kOk;
  const auto took = time_of([&] { status = blocking->send(numbered(5)); });
  EXPECT_EQ(status, Status::kTimeout);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1s);
  server.resume();
  EXPECT_EQ(blocking->flush(5s), Status::kOk);
}

}  // namespace
}  // namespace mlops::orchestration::testing
