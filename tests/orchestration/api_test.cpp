// The API's semantics, the same for every backend: parameterised over backend_cases().
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "support/api_fixture.h"

namespace mlops::orchestration::testing {
namespace {

class OrchestrationApi : public BackendFixture {};

TEST_P(OrchestrationApi, SentMessageArrivesWithItsBytes) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  const auto sent = numbered(7);
  ASSERT_EQ(pro.send(sent), Status::kOk);
  const auto got = receive_n(con, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(number_of(got[0]), 7);
  EXPECT_EQ(got[0].user_message(), "message 7");
  EXPECT_TRUE(std::ranges::equal(got[0].bytes(), sent.bytes()));
  EXPECT_EQ(con.stats().received, 1u);
  EXPECT_EQ(pro.stats().sent, 1u);
}

TEST_P(OrchestrationApi, MessagesArriveInOrder) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  const auto got = receive_n(con, 20);
  std::vector<std::int64_t> expected(20);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(numbers_of(got), expected);
}

TEST_P(OrchestrationApi, MessageTopicWinsOverProducerTopic) {
  const auto producer_topic = unique_name("p");
  const auto message_topic = unique_name("m");
  auto on_producer_topic = consumer(producer_topic);
  auto on_message_topic = consumer(message_topic);
  auto pro = producer(producer_topic);
  ASSERT_EQ(pro.send(numbered(1, message_topic)), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(on_message_topic, 1)), std::vector<std::int64_t>{1});
  EXPECT_TRUE(on_producer_topic.receive(50ms).empty());
}

TEST_P(OrchestrationApi, MessageWithTopicListGoesOnceToEach) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  auto con_a = consumer(a);
  auto con_b = consumer(b);
  auto pro = producer();
  ASSERT_EQ(pro.send(numbered(3, {a, b})), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(con_a, 1)), std::vector<std::int64_t>{3});
  EXPECT_EQ(numbers_of(receive_n(con_b, 1)), std::vector<std::int64_t>{3});
  EXPECT_TRUE(con_a.receive(50ms).empty()) << "sent twice to one topic";
  EXPECT_EQ(pro.stats().sent, 2u);
}

TEST_P(OrchestrationApi, ProducerTopicListGoesOnceToEach) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  auto con = consumer({a, b});
  auto pro = producer({a, b});
  ASSERT_EQ(pro.send(numbered(5)), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(con, 2)), (std::vector<std::int64_t>{5, 5}));
  EXPECT_TRUE(con.receive(50ms).empty());
}

TEST_P(OrchestrationApi, SendToGoesToThatTopicAlone) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  auto con_a = consumer(a);
  auto con_b = consumer(b);
  auto pro = producer(a);
  ASSERT_EQ(pro.send_to(b, numbered(4, {a, b})), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(con_b, 1)), std::vector<std::int64_t>{4});
  EXPECT_TRUE(con_a.receive(50ms).empty()) << "the message's other topic got it too";
  EXPECT_EQ(pro.send_to("bad topic", numbered(5)), Status::kInvalidTopic);
  EXPECT_EQ(pro.stats().sent, 1u);
  EXPECT_EQ(pro.stats().failed, 1u);
  ASSERT_EQ(pro.close(), Status::kOk);
  EXPECT_EQ(pro.send_to(b, numbered(6)), Status::kClosed);
}

TEST_P(OrchestrationApi, DeliveryCallbackReportsEachTopic) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  std::vector<std::string> reported;
  auto pro = producer({a, b}, ProducerOptions{.on_delivery = [&](const DeliveryReport& report) {
                        EXPECT_EQ(report.status, Status::kOk);
                        EXPECT_EQ(number_of(report.message), 9);
                        reported.emplace_back(report.topic);
                      }});
  ASSERT_EQ(pro.send(numbered(9), true), Status::kOk);
  ASSERT_EQ(pro.flush(1s), Status::kOk);
  std::sort(reported.begin(), reported.end());
  std::vector<std::string> expected{a, b};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(reported, expected);
}

TEST_P(OrchestrationApi, InvalidTopicSendsNothing) {
  const auto good = unique_name();
  auto con = consumer(good);
  auto pro = producer();
  EXPECT_EQ(pro.send(numbered(1, {good, "bad topic"})), Status::kInvalidTopic);
  EXPECT_EQ(pro.send(numbered(2, "slash/topic")), Status::kInvalidTopic);
  EXPECT_EQ(pro.send(numbered(3, std::string(kMaxTopicNameLength + 1, 'x'))),
            Status::kInvalidTopic);
  EXPECT_EQ(pro.send_raw("bad topic", std::vector<std::uint8_t>{1, 2}), Status::kInvalidTopic);
  EXPECT_TRUE(con.receive(50ms).empty());
  EXPECT_EQ(pro.stats().failed, 4u);
  EXPECT_EQ(pro.stats().sent, 0u);
}

TEST_P(OrchestrationApi, LongestValidTopicWorks) {
  const auto topic = unique_name() + std::string(kMaxTopicNameLength, 'x');
  const auto longest = topic.substr(topic.size() - kMaxTopicNameLength);
  auto con = consumer(longest);
  auto pro = producer(longest);
  ASSERT_EQ(pro.send(numbered(1)), Status::kOk);
  EXPECT_EQ(receive_n(con, 1).size(), 1u);
}

TEST_P(OrchestrationApi, InvalidTopicsRefusedAtCreation) {
  const auto producer_made = Producer::create(*orch_, {"ok", "not ok"});
  ASSERT_FALSE(producer_made);
  EXPECT_EQ(producer_made.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(producer_made.error().message.find("not ok"), std::string::npos);
  EXPECT_FALSE(Consumer::create("", *orch_));
  EXPECT_FALSE(Consumer::create("a*b", *orch_));
}

TEST_P(OrchestrationApi, SendWithoutAnyTopicIsNoTopic) {
  auto pro = producer();
  EXPECT_EQ(pro.send(numbered(1)), Status::kNoTopic);
}

TEST_P(OrchestrationApi, SubscribeOverridesByDefault) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  auto con = consumer(a);
  ASSERT_TRUE(con.subscribe(b));
  EXPECT_EQ(con.subscriptions(), std::vector<std::string>{b});
  auto pro = producer();
  ASSERT_EQ(pro.send(numbered(1, a)), Status::kOk);
  ASSERT_EQ(pro.send(numbered(2, b)), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(con, 1)), std::vector<std::int64_t>{2});
  EXPECT_TRUE(con.receive(50ms).empty());
}

TEST_P(OrchestrationApi, SubscribeWithoutOverrideAdds) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  auto con = consumer(a);
  ASSERT_TRUE(con.subscribe(b, false));
  ASSERT_TRUE(con.subscribe(a, false));  // already there: not added twice
  EXPECT_EQ(con.subscriptions(), (std::vector<std::string>{a, b}));
  auto pro = producer();
  ASSERT_EQ(pro.send(numbered(1, a)), Status::kOk);
  ASSERT_EQ(pro.send(numbered(2, b)), Status::kOk);
  auto numbers = numbers_of(receive_n(con, 2));
  std::sort(numbers.begin(), numbers.end());
  EXPECT_EQ(numbers, (std::vector<std::int64_t>{1, 2}));
}

TEST_P(OrchestrationApi, InvalidSubscribeChangesNothing) {
  const auto a = unique_name("a");
  auto con = consumer(a);
  const auto result = con.subscribe({"fine", "not fine"}, false);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("not fine"), std::string::npos);
  EXPECT_EQ(con.subscriptions(), std::vector<std::string>{a});
}

TEST_P(OrchestrationApi, UnsubscribeStopsDelivery) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  ASSERT_TRUE(con.unsubscribe());
  EXPECT_TRUE(con.subscriptions().empty());
  std::vector<mes::MLOpsMessage> out;
  const auto start = Clock::now();
  EXPECT_EQ(con.receive(out, {}, 5s), Status::kNoTopic);
  EXPECT_LT(Clock::now() - start, 1s) << "receive without subscriptions must return at once";
}

TEST_P(OrchestrationApi, FilterSelectsAndCountsTheRest) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  std::vector<std::int64_t> seen_by_filter;
  std::vector<mes::MLOpsMessage> got;
  const auto deadline = Clock::now() + 5s;
  while (seen_by_filter.size() < 10 && Clock::now() < deadline) {
    for (auto& m : con.receive(
             [&](const mes::MLOpsMessage& m) {
               seen_by_filter.push_back(number_of(m));
               return number_of(m) % 2 == 0;
             },
             100ms)) {
      got.push_back(std::move(m));
    }
  }
  EXPECT_EQ(numbers_of(got), (std::vector<std::int64_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(seen_by_filter.size(), 10u);
  EXPECT_EQ(con.stats().filtered_out, 5u);
  EXPECT_EQ(con.stats().received, 5u);
}

bool only_odd(const mes::MLOpsMessage& m) { return number_of(m) % 2 == 1; }

TEST_P(OrchestrationApi, FilterMayBeAPlainFunction) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  std::vector<mes::MLOpsMessage> got;
  const auto deadline = Clock::now() + 5s;
  while (got.size() < 2 && Clock::now() < deadline) {
    for (auto& m : con.receive(only_odd, 100ms)) got.push_back(std::move(m));
  }
  EXPECT_EQ(numbers_of(got), (std::vector<std::int64_t>{1, 3}));
}

TEST_P(OrchestrationApi, ReceiveHonoursMax) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  ASSERT_EQ(receive_n(con, 1).size(), 1u);  // wait until something has arrived
  const auto batch = con.receive({}, 1s, 3);
  EXPECT_GE(batch.size(), 1u);
  EXPECT_LE(batch.size(), 3u);
}

TEST_P(OrchestrationApi, MaxBatchOptionBoundsABatch) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.max_batch = 4});
  auto pro = producer(topic);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  ASSERT_EQ(pro.flush(5s), Status::kOk);
  for (int round = 0; round < 3; ++round) EXPECT_LE(con.receive(1s).size(), 4u);
}

TEST_P(OrchestrationApi, ReceiveOnQuietTopicReturnsEmptyWithinTimeout) {
  auto con = consumer(unique_name());
  for (const auto timeout : {0ms, 20ms, 150ms}) {
    const auto start = Clock::now();
    std::vector<mes::MLOpsMessage> out;
    EXPECT_EQ(con.receive(out, {}, timeout), Status::kTimeout);
    const auto elapsed = Clock::now() - start;
    EXPECT_TRUE(out.empty());
    EXPECT_GE(elapsed, timeout);
    EXPECT_LT(elapsed, timeout + 1s) << "receive overran its timeout";
  }
}

TEST_P(OrchestrationApi, EveryGroupSeesEveryMessage) {
  const auto topic = unique_name();
  auto first = consumer(topic, {.group = "first"});
  auto second = consumer(topic, {.group = "second"});
  auto loner = consumer(topic);  // no group: a group of its own
  auto pro = producer(topic);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  EXPECT_EQ(receive_n(first, 10).size(), 10u);
  EXPECT_EQ(receive_n(second, 10).size(), 10u);
  EXPECT_EQ(receive_n(loner, 10).size(), 10u);
}

TEST_P(OrchestrationApi, MembersOfOneGroupShareMessages) {
  if (!GetParam().shared_groups) {
    GTEST_SKIP() << GetParam().name << " allows one active consumer per group";
  }
  const auto topic = unique_name();
  auto a = consumer(topic, {.group = "workers"});
  auto b = consumer(topic, {.group = "workers"});
  auto pro = producer(topic);
  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  std::multiset<std::int64_t> seen;
  std::size_t from_a = 0;
  std::size_t from_b = 0;
  const auto deadline = Clock::now() + 5s;
  while (seen.size() < kCount && Clock::now() < deadline) {
    for (const auto& m : a.receive({}, 20ms, 3)) seen.insert(number_of(m)), ++from_a;
    for (const auto& m : b.receive({}, 20ms, 3)) seen.insert(number_of(m)), ++from_b;
  }
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(seen.count(i), 1u) << "message " << i;
  EXPECT_GT(from_a, 0u);
  EXPECT_GT(from_b, 0u);
}

TEST_P(OrchestrationApi, UncommittedMessagesComeAgainAfterClose) {
  const auto topic = unique_name();
  ConsumerOptions options{.group = "stage", .auto_commit = false};
  auto first = consumer(topic, options);
  auto pro = producer(topic);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  const auto before = numbers_of(receive_n(first, 5));
  ASSERT_EQ(before.size(), 5u);
  first.close();  // without commit: a crash between receive and commit

  auto second = consumer(topic, options);
  EXPECT_EQ(numbers_of(receive_n(second, 5)), before);
  ASSERT_EQ(second.commit(), Status::kOk);
  second.close();

  auto third = consumer(topic, options);
  EXPECT_TRUE(third.receive(50ms).empty()) << "committed messages came again";
}

TEST_P(OrchestrationApi, UncommittedMessagesGoToARemainingMember) {
  if (!GetParam().shared_groups) {
    GTEST_SKIP() << GetParam().name << " allows one active consumer per group";
  }
  const auto topic = unique_name();
  ConsumerOptions options{.group = "stage", .auto_commit = false};
  auto leaving = consumer(topic, options);
  auto staying = consumer(topic, options);
  auto pro = producer(topic);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  const auto taken = numbers_of(receive_n(leaving, 3));
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_TRUE(staying.receive(20ms).empty());
  leaving.close();
  EXPECT_EQ(numbers_of(receive_n(staying, 3)), taken);
}

TEST_P(OrchestrationApi, AutoCommitCoversThePreviousBatch) {
  const auto topic = unique_name();
  ConsumerOptions options{.group = "auto"};  // auto_commit is the default
  auto first = consumer(topic, options);
  auto pro = producer(topic);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  ASSERT_EQ(receive_n(first, 1).size(), 1u);
  std::vector<std::int64_t> last;
  std::size_t total = 1;
  const auto deadline = Clock::now() + 5s;
  while (total < 4 && Clock::now() < deadline) {
    last = numbers_of(first.receive({}, 100ms, 4));
    total += last.size();
  }
  ASSERT_EQ(total, 4u);
  first.close();  // the last batch was never committed
  auto second = consumer(topic, options);
  EXPECT_EQ(numbers_of(receive_n(second, last.size())), last);
  EXPECT_TRUE(second.receive(20ms).empty());
}

TEST_P(OrchestrationApi, NewGroupAtLatestSkipsOlderMessages) {
  const auto topic = unique_name();
  auto pro = producer(topic);
  auto keeper = consumer(topic, {.group = "keeper"});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  ASSERT_EQ(pro.flush(5s), Status::kOk);
  auto late = consumer(topic, {.group = "late", .offset_reset = OffsetReset::kLatest});
  EXPECT_TRUE(late.receive(50ms).empty());
  ASSERT_EQ(pro.send(numbered(3)), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(late, 1)), std::vector<std::int64_t>{3});
  EXPECT_EQ(receive_n(keeper, 4).size(), 4u);
}

TEST_P(OrchestrationApi, NewGroupAtEarliestSeesMessagesSentBeforeIt) {
  const auto topic = unique_name();
  auto pro = producer(topic);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  ASSERT_EQ(pro.flush(5s), Status::kOk);
  auto con = consumer(topic, {.group = "early", .offset_reset = OffsetReset::kEarliest});
  EXPECT_EQ(numbers_of(receive_n(con, 3)), (std::vector<std::int64_t>{0, 1, 2}));
}

TEST_P(OrchestrationApi, ViewMessageIsCopiedBeforeTheBuilderMovesOn) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  mes::MessageBuilder builder;
  const auto view = builder.with_user_msg("first").with_retries(1).build_view();
  ASSERT_FALSE(view.is_owning());
  ASSERT_EQ(pro.send(view), Status::kOk);
  const auto second =
      builder.with_user_msg("second, longer, to overwrite").with_retries(2).build_view();
  ASSERT_EQ(pro.send(second), Status::kOk);
  const auto got = receive_n(con, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].user_message(), "first");
  EXPECT_EQ(got[0].retries(), 1);
  EXPECT_EQ(got[1].user_message(), "second, longer, to overwrite");
}

TEST_P(OrchestrationApi, ForeignPayloadIsSkippedCountedAndLogged) {
  LogCapture logs;
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  const std::string text = "plain text from another client";
  ASSERT_EQ(pro.send_raw(topic, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}),
            Status::kOk);
  const auto valid = numbered(1);
  const auto truncated = valid.bytes().first(valid.bytes().size() / 2);
  ASSERT_EQ(pro.send_raw(topic, truncated), Status::kOk);
  ASSERT_EQ(pro.send_raw(topic, {}), Status::kOk);
  ASSERT_EQ(pro.send(numbered(2)), Status::kOk);
  ASSERT_EQ(pro.send_raw(topic, valid.bytes()), Status::kOk);  // a real message, sent raw
  const auto got = receive_n(con, 2);
  EXPECT_EQ(numbers_of(got), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(con.stats().skipped_corrupt, 3u);
  EXPECT_EQ(con.stats().received, 2u);
  EXPECT_GE(logs.count(LogLevel::kWarning, "foreign or corrupt"), 1u);
}

TEST_P(OrchestrationApi, ClosedProducerAndConsumerSayClosed) {
  const auto topic = unique_name();
  auto pro = producer(topic);
  auto con = consumer(topic);
  EXPECT_EQ(pro.close(), Status::kOk);
  EXPECT_TRUE(pro.is_closed());
  EXPECT_EQ(pro.send(numbered(1)), Status::kClosed);
  EXPECT_EQ(pro.flush(10ms), Status::kClosed);
  EXPECT_EQ(pro.close(), Status::kClosed);
  con.close();
  con.close();
  std::vector<mes::MLOpsMessage> out;
  EXPECT_EQ(con.receive(out, {}, 10ms), Status::kClosed);
  EXPECT_EQ(con.commit(), Status::kClosed);
  EXPECT_FALSE(con.subscribe("other"));
}

TEST_P(OrchestrationApi, MovedFromObjectsAreClosed) {
  const auto topic = unique_name();
  auto pro = producer(topic);
  auto moved = std::move(pro);
  EXPECT_EQ(pro.send(numbered(1)), Status::kClosed);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.send(numbered(1)), Status::kOk);
}

TEST_P(OrchestrationApi, AdminCreatesAndListsTopics) {
  auto admin = Admin::create(*orch_);
  ASSERT_TRUE(admin) << admin.error().message;
  EXPECT_TRUE(admin->validate_connection(1s));
  const auto topic = unique_name();
  ASSERT_TRUE(admin->create_topic(topic));
  ASSERT_TRUE(admin->create_topic(topic)) << "creating an existing topic succeeds";
  const auto topics = admin->topics();
  ASSERT_TRUE(topics);
  EXPECT_NE(std::find(topics->begin(), topics->end(), topic), topics->end());
  const auto bad = admin->create_topic("no spaces");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  admin->close();
  EXPECT_FALSE(admin->topics());
}

INSTANTIATE_TEST_SUITE_P(Backends, OrchestrationApi, ::testing::ValuesIn(backend_cases()),
                         backend_name);

}  // namespace
}  // namespace mlops::orchestration::testing
