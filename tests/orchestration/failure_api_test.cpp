// Retries, dead letters and corrupt payloads, the same on every backend (backend_cases()).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "support/api_fixture.h"

namespace mlops::orchestration::testing {
namespace {

class FailureApi : public BackendFixture {
 protected:
  static mes::MLOpsMessage job(std::string_view name) {
    return mes::MessageBuilder().with_creator("test").with_user_msg(name).build();
  }
  static std::string text_argument(const mes::MLOpsMessage& msg, std::string_view key) {
    const auto value = msg.additional_argument(key);
    if (!value) return "<absent>";
    return std::string(value->as_string().value_or("<not text>"));
  }
};

TEST_P(FailureApi, RetriedThreeTimesWithDelaysThenDeadLettered) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage"});
  auto dlq = consumer(topic + ".dlq", {.group = "inspect"});
  auto pro = producer(topic);
  ASSERT_EQ(pro.send(job("evaluate")), Status::kOk);
  constexpr auto kDelay = 150ms;

  auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const auto retried_at = Clock::now();
    ASSERT_EQ(con.retry(got[0], kDelay, "out of memory"), Status::kOk);
    ASSERT_EQ(con.commit(), Status::kOk);
    got = receive_n(con, 1, 10s);
    const auto arrived_at = Clock::now();
    ASSERT_EQ(got.size(), 1u) << "retry " << attempt << " never came";
    EXPECT_GE(arrived_at - retried_at, kDelay) << "retry " << attempt << " came early";
    EXPECT_EQ(got[0].retries(), attempt);
    EXPECT_EQ(got[0].user_message(), "evaluate");
    EXPECT_EQ(text_argument(got[0], "mlops.retry_reason"), "out of memory");
  }
  // Retried max_retries (3) times: the next retry dead-letters it.
  ASSERT_EQ(con.retry(got[0], kDelay, "still out of memory"), Status::kOk);
  ASSERT_EQ(con.commit(), Status::kOk);
  const auto letters = receive_n(dlq, 1, 10s);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].retries(), 3);
  EXPECT_EQ(text_argument(letters[0], "mlops.dlq_reason"), "still out of memory");
  EXPECT_EQ(text_argument(letters[0], "mlops.dlq_topic"), topic);
  EXPECT_TRUE(con.receive(kDelay * 3).empty()) << "retried past max_retries";
  EXPECT_EQ(con.stats().retried, 3u);
  EXPECT_EQ(con.stats().dead_lettered, 1u);
}

TEST_P(FailureApi, DeadLetterCarriesReasonTopicAndTime) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage"});
  auto dlq = consumer(topic + ".dlq", {.group = "inspect"});
  auto pro = producer(topic);
  const auto sent = job("bad file");
  ASSERT_EQ(pro.send(sent), Status::kOk);
  const auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  const auto before = mes::unix_now_ns();
  ASSERT_EQ(con.dead_letter(got[0], "no such file"), Status::kOk);
  ASSERT_EQ(con.commit(), Status::kOk);
  const auto letters = receive_n(dlq, 1, 10s);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].user_message(), "bad file");
  EXPECT_EQ(letters[0].id(), sent.id());
  EXPECT_EQ(text_argument(letters[0], "mlops.dlq_reason"), "no such file");
  EXPECT_EQ(text_argument(letters[0], "mlops.dlq_topic"), topic);
  const auto time = letters[0].additional_argument("mlops.dlq_time_ns");
  ASSERT_TRUE(time && time->as_int());
  EXPECT_GE(*time->as_int(), before);
  EXPECT_LE(*time->as_int(), mes::unix_now_ns());
  EXPECT_TRUE(con.receive(100ms).empty()) << "a dead letter came again";
}

TEST_P(FailureApi, CorruptPayloadLandsInTheDeadLetterTopicAsRawBytes) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage"});
  auto dlq_raw = consumer(topic + ".dlq", {.group = "inspect", .dead_letter_corrupt = false});
  auto pro = producer(topic);
  const std::string garbage = "MLOP but not a message at all, just text";
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(garbage.data()), garbage.size());
  ASSERT_EQ(pro.send_raw(topic, bytes), Status::kOk);
  ASSERT_EQ(pro.send(job("after")), Status::kOk);
  const auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user_message(), "after");
  EXPECT_EQ(con.stats().skipped_corrupt, 1u);
  EXPECT_EQ(con.stats().dead_lettered, 1u);
  // The DLQ reader skips it as corrupt too (a .dlq topic's payloads stay where they are),
  // and its report names the raw payload's exact size.
  LogCapture logs;
  const auto deadline = Clock::now() + 10s;
  while (dlq_raw.stats().skipped_corrupt == 0 && Clock::now() < deadline) {
    EXPECT_TRUE(dlq_raw.receive(100ms).empty());
  }
  EXPECT_EQ(dlq_raw.stats().skipped_corrupt, 1u);
  EXPECT_EQ(logs.count(LogLevel::kWarning, "payload of " + std::to_string(garbage.size()) +
                                               " bytes on topic '" + topic + ".dlq'"),
            1u);
  EXPECT_EQ(dlq_raw.stats().dead_lettered, 0u);
}

TEST_P(FailureApi, MaxRetriesZeroDeadLettersAtOnce) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage", .max_retries = 0});
  auto dlq = consumer(topic + ".dlq", {.group = "inspect"});
  auto pro = producer(topic);
  ASSERT_EQ(pro.send(job("once")), Status::kOk);
  const auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(con.retry(got[0], 10ms, "no retries here"), Status::kOk);
  ASSERT_EQ(con.commit(), Status::kOk);
  const auto letters = receive_n(dlq, 1, 10s);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(text_argument(letters[0], "mlops.dlq_reason"), "no retries here");
  EXPECT_EQ(con.stats().retried, 0u);
}

TEST_P(FailureApi, ConsumerWithoutGroupRetriesInMemory) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  ASSERT_EQ(pro.send(job("private")), Status::kOk);
  auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  const auto retried_at = Clock::now();
  ASSERT_EQ(con.retry(got[0], 100ms, "again"), Status::kOk);
  got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(Clock::now() - retried_at, 100ms);
  EXPECT_EQ(got[0].retries(), 1);
}

TEST_P(FailureApi, RetriesGoToTheirOwnGroupOnly) {
  const auto topic = unique_name();
  auto a = consumer(topic, {.group = "a"});
  auto b = consumer(topic, {.group = "b"});
  auto pro = producer(topic);
  ASSERT_EQ(pro.send(job("both")), Status::kOk);
  auto got_a = receive_n(a, 1, 10s);
  ASSERT_EQ(receive_n(b, 1, 10s).size(), 1u);
  ASSERT_EQ(got_a.size(), 1u);
  ASSERT_EQ(a.retry(got_a[0], 0ms, "a failed"), Status::kOk);
  ASSERT_EQ(a.commit(), Status::kOk);
  ASSERT_EQ(b.commit(), Status::kOk);
  got_a = receive_n(a, 1, 10s);
  ASSERT_EQ(got_a.size(), 1u);
  EXPECT_EQ(got_a[0].retries(), 1);
  EXPECT_TRUE(b.receive(300ms).empty()) << "group b got group a's retry";
}

TEST_P(FailureApi, UnknownTopicAndClosedConsumerAreClear) {
  const auto a = unique_name("a");
  const auto b = unique_name("b");
  auto con = consumer({a, b}, {.group = "stage"});
  const auto stray = job("from nowhere");  // never received, no topic field
  EXPECT_EQ(con.dead_letter(stray, "x"), Status::kNoTopic);
  EXPECT_EQ(con.retry(stray, 1ms, "x"), Status::kNoTopic);
  con.close();
  EXPECT_EQ(con.dead_letter(stray, "x"), Status::kClosed);
  EXPECT_EQ(con.retry(stray, Backoff{}, "x"), Status::kClosed);
}

TEST_P(FailureApi, ExtremeDelaysAreClampedNotOverflowed) {
  const auto topic = unique_name();
  auto con = consumer(topic, {.group = "stage"});
  auto pro = producer(topic);
  ASSERT_EQ(pro.send(job("far future")), Status::kOk);
  auto got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(con.retry(got[0], std::chrono::milliseconds::max(), "later"), Status::kOk);
  ASSERT_EQ(con.commit(), Status::kOk);
  EXPECT_TRUE(con.receive(300ms).empty()) << "a year-long retry came at once";
  ASSERT_EQ(pro.send(job("now")), Status::kOk);
  got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user_message(), "now");
  ASSERT_EQ(con.retry(got[0], std::chrono::milliseconds::min(), "negative"), Status::kOk);
  got = receive_n(con, 1, 10s);
  ASSERT_EQ(got.size(), 1u) << "a negative delay is no delay";
  EXPECT_EQ(got[0].retries(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, FailureApi, ::testing::ValuesIn(backend_cases()), backend_name);

TEST(Backoff, GrowsByTheMultiplierUpToTheMax) {
  const Backoff exact{.initial = 100ms, .multiplier = 2, .max = 1s, .jitter = 0};
  EXPECT_EQ(exact.delay_for(0), 100ms);
  EXPECT_EQ(exact.delay_for(1), 200ms);
  EXPECT_EQ(exact.delay_for(3), 800ms);
  EXPECT_EQ(exact.delay_for(4), 1s);
  EXPECT_EQ(exact.delay_for(1'000'000), 1s);
  EXPECT_EQ(exact.delay_for(-5), 100ms);
}

TEST(Backoff, JitterStaysWithinItsFraction) {
  const Backoff jittery{.initial = 1000ms, .multiplier = 1, .max = 1s, .jitter = 0.2};
  bool varied = false;
  for (int i = 0; i < 200; ++i) {
    const auto delay = jittery.delay_for(0);
    EXPECT_GE(delay, 800ms);
    EXPECT_LE(delay, 1200ms);
    varied = varied || delay != 1000ms;
  }
  EXPECT_TRUE(varied);
}

TEST(Backoff, NonsenseSettingsGiveSaneDelays) {
  const Backoff odd{.initial = -5ms, .multiplier = -3, .max = -1ms, .jitter = 7};
  EXPECT_EQ(odd.delay_for(2), 0ms);
  const Backoff nan{.initial = 10ms, .multiplier = std::nan(""), .max = 1s, .jitter = std::nan("")};
  EXPECT_EQ(nan.delay_for(5), 10ms);
}

}  // namespace
}  // namespace mlops::orchestration::testing
