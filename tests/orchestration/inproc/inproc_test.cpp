// What only inproc promises: shared bytes, bounded topics with both back-pressure
// policies, retention, named brokers.
#include <gtest/gtest.h>

#include "orchestration/inproc/broker.h"
#include "orchestration/inproc/slot_ring.h"
#include "support/test_support.h"

namespace mlops::orchestration::testing {
namespace {

namespace inproc = detail::inproc;

class Inproc : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = unique_name("broker");
    orch_ = Orchestration::from_uri("inproc://" + broker_).value();
    admin_ = Admin::create(*orch_).value();
  }
  // Creates `topic` holding at most `max_messages` (and `max_bytes`).
  void bounded(const std::string& topic, std::size_t max_messages, std::size_t max_bytes = 0) {
    ASSERT_TRUE(
        admin_->create_topic(topic, {.max_messages = max_messages, .max_bytes = max_bytes}));
  }
  std::size_t held(const std::string& topic) {
    return (*inproc::Broker::open(broker_, {}))->topic(topic).size();
  }

  std::string broker_;
  std::optional<Orchestration> orch_;
  std::optional<Admin> admin_;
};

TEST_F(Inproc, ConsumersShareTheProducersBytes) {
  const auto topic = unique_name();
  auto first = Consumer::create(topic, *orch_, {.group = "one"}).value();
  auto second = Consumer::create(topic, *orch_, {.group = "two"}).value();
  auto pro = Producer::create(*orch_, topic).value();
  const auto sent = numbered(1);
  ASSERT_EQ(pro.send(sent), Status::kOk);
  const auto a = receive_n(first, 1);
  const auto b = receive_n(second, 1);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].bytes().data(), sent.bytes().data()) << "bytes were copied for a consumer";
  EXPECT_EQ(b[0].bytes().data(), sent.bytes().data()) << "bytes were copied for a consumer";
}

TEST_F(Inproc, FullTopicReturnsBackPressuredUnderReturnPolicy) {
  const auto topic = unique_name();
  bounded(topic, 4);
  auto con = Consumer::create(topic, *orch_, {.group = "slow", .auto_commit = false}).value();
  auto pro = Producer::create(*orch_, topic, {.back_pressure = BackPressure::kReturn}).value();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  const auto start = Clock::now();
  EXPECT_EQ(pro.send(numbered(4)), Status::kBackPressured);
  EXPECT_LT(Clock::now() - start, 500ms) << "kReturn must not wait";
  EXPECT_EQ(pro.stats().back_pressured, 1u);

  ASSERT_EQ(receive_n(con, 4).size(), 4u);
  EXPECT_EQ(pro.send(numbered(4)), Status::kBackPressured) << "room before the commit";
  ASSERT_EQ(con.commit(), Status::kOk);
  EXPECT_EQ(pro.send(numbered(4)), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(con, 1)), std::vector<std::int64_t>{4});
}

TEST_F(Inproc, FullTopicTimesOutUnderBlockPolicy) {
  const auto topic = unique_name();
  bounded(topic, 2);
  auto con = Consumer::create(topic, *orch_, {.group = "slow"}).value();
  auto pro =
      Producer::create(*orch_, topic, {.back_pressure = BackPressure::kBlock, .send_timeout = 60ms})
          .value();
  ASSERT_EQ(pro.send(numbered(0)), Status::kOk);
  ASSERT_EQ(pro.send(numbered(1)), Status::kOk);
  const auto start = Clock::now();
  EXPECT_EQ(pro.send(numbered(2)), Status::kTimeout);
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 60ms);
  EXPECT_LT(waited, 60ms + 1s);
  EXPECT_EQ(pro.stats().back_pressured, 1u);
}

TEST_F(Inproc, ByteLimitBackPressuresAndRefusesWhatCanNeverFit) {
  const auto topic = unique_name();
  const auto sample = numbered(0);
  const auto size = sample.bytes().size();
  bounded(topic, 1000, size * 2 + size / 2);  // room for two messages
  auto con = Consumer::create(topic, *orch_, {.group = "g"}).value();
  auto pro = Producer::create(*orch_, topic, {.back_pressure = BackPressure::kReturn}).value();
  EXPECT_EQ(pro.send(numbered(0)), Status::kOk);
  EXPECT_EQ(pro.send(numbered(1)), Status::kOk);
  EXPECT_EQ(pro.send(numbered(2)), Status::kBackPressured);

  const auto big = mes::MessageBuilder().with_user_msg(std::string(size * 3, 'x')).build();
  EXPECT_EQ(pro.send(big), Status::kTooLarge);
  EXPECT_EQ(pro.stats().failed, 1u);
}

TEST_F(Inproc, CommittedMessagesAreFreed) {
  const auto topic = unique_name();
  auto a = Consumer::create(topic, *orch_, {.group = "a", .auto_commit = false}).value();
  auto b = Consumer::create(topic, *orch_, {.group = "b", .auto_commit = false}).value();
  auto pro = Producer::create(*orch_, topic).value();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk);
  EXPECT_EQ(held(topic), 10u);
  ASSERT_EQ(receive_n(a, 10).size(), 10u);
  ASSERT_EQ(a.commit(), Status::kOk);
  EXPECT_EQ(held(topic), 10u) << "group b still needs them";
  ASSERT_EQ(receive_n(b, 6).size(), 6u);
  ASSERT_EQ(b.commit(), Status::kOk);
  EXPECT_EQ(held(topic), 4u);
  ASSERT_EQ(receive_n(b, 4).size(), 4u);
  ASSERT_EQ(b.commit(), Status::kOk);
  EXPECT_EQ(held(topic), 0u);
}

TEST_F(Inproc, TopicWithoutGroupsKeepsTheNewestUpToItsLimit) {
  const auto topic = unique_name();
  bounded(topic, 4);
  auto pro = Producer::create(*orch_, topic, {.back_pressure = BackPressure::kReturn}).value();
  for (int i = 0; i < 6; ++i) ASSERT_EQ(pro.send(numbered(i)), Status::kOk) << i;
  EXPECT_EQ(held(topic), 4u);
  auto con = Consumer::create(topic, *orch_, {.group = "late"}).value();
  EXPECT_EQ(numbers_of(receive_n(con, 4)), (std::vector<std::int64_t>{2, 3, 4, 5}));
}

TEST_F(Inproc, GroupOutlivesItsMembers) {
  const auto topic = unique_name();
  auto pro = Producer::create(*orch_, topic).value();
  {
    auto first = Consumer::create(topic, *orch_, {.group = "durable"}).value();
    ASSERT_EQ(pro.send(numbered(0)), Status::kOk);
    ASSERT_EQ(receive_n(first, 1).size(), 1u);
    ASSERT_EQ(first.commit(), Status::kOk);
  }
  ASSERT_EQ(pro.send(numbered(1)), Status::kOk);  // while the group has no member
  auto second = Consumer::create(topic, *orch_, {.group = "durable"}).value();
  EXPECT_EQ(numbers_of(receive_n(second, 1)), std::vector<std::int64_t>{1});
}

TEST_F(Inproc, UnknownOptionsAreWarnedAboutAndIgnored) {
  LogCapture logs;
  auto pro = Producer::create(*orch_, "t", {.backend = {{"acks", "all"}}});
  ASSERT_TRUE(pro);
  EXPECT_EQ(logs.count(LogLevel::kWarning, "'acks'"), 1u);
}

TEST_F(Inproc, UnsubscribeHandsUncommittedBackToTheGroup) {
  const auto topic = unique_name();
  const auto other = unique_name();
  ConsumerOptions options{.group = "g", .auto_commit = false};
  auto a = Consumer::create(topic, *orch_, options).value();
  auto pro = Producer::create(*orch_, topic).value();
  ASSERT_EQ(pro.send(numbered(0)), Status::kOk);
  ASSERT_EQ(receive_n(a, 1).size(), 1u);
  ASSERT_TRUE(a.subscribe(other));  // leaves `topic` without committing
  auto b = Consumer::create(topic, *orch_, options).value();
  EXPECT_EQ(numbers_of(receive_n(b, 1)), std::vector<std::int64_t>{0});
}

TEST(InprocSlotRing, ChunksAppearWhenReachedAndSlotsRepeatEachLap) {
  for (const std::size_t capacity : {std::size_t{256}, std::size_t{1024}}) {
    inproc::SlotRing ring(capacity);
    ASSERT_EQ(ring.capacity(), capacity);
    EXPECT_EQ(ring.find(0), nullptr);
    EXPECT_EQ(ring.find(capacity - 1), nullptr);
    for (std::uint64_t offset = 0; offset < capacity; ++offset) {
      inproc::Slot* slot = ring.reach(offset);
      ASSERT_NE(slot, nullptr);
      slot->published.store(offset + 1);
    }
    // Every later lap lands on the same slots, and reaching again allocates nothing new.
    for (std::uint64_t offset = 0; offset < 3 * capacity; ++offset) {
      ASSERT_EQ(ring.find(offset), ring.reach(offset)) << "offset " << offset;
      ASSERT_EQ(&ring.at(offset), &ring.at(offset % capacity));
      ASSERT_EQ(ring.at(offset).published.load(), offset % capacity + 1);
    }
  }
}

TEST(InprocSlotRing, CapacityIsTheLimitRoundedUpToAPowerOfTwoAndAtLeastAChunk) {
  EXPECT_EQ(inproc::SlotRing(1).capacity(), inproc::SlotRing::kChunk);
  EXPECT_EQ(inproc::SlotRing(300).capacity(), 512u);
  EXPECT_EQ(inproc::SlotRing(4096).capacity(), 4096u);
  EXPECT_EQ(sizeof(inproc::Slot), 64u) << "README.md gives the slot size";
}

TEST_F(Inproc, SmallTopicWrapsManyTimes) {
  const auto topic = unique_name();
  bounded(topic, 256);
  auto con = Consumer::create(topic, *orch_, {.group = "g", .max_batch = 100}).value();
  auto pro = Producer::create(*orch_, topic, {.back_pressure = BackPressure::kReturn}).value();
  std::int64_t sent = 0;
  std::int64_t expected = 0;
  for (int round = 0; round < 20; ++round) {
    while (pro.send(numbered(sent)) == Status::kOk) ++sent;  // fill to the limit
    EXPECT_EQ(held(topic), 256u);
    for (const auto& m : con.receive({}, 1s, 100 + round)) ASSERT_EQ(number_of(m), expected++);
    ASSERT_EQ(con.commit(), Status::kOk);
  }
  while (expected < sent) {
    const auto got = con.receive({}, 1s);
    ASSERT_FALSE(got.empty());
    for (const auto& m : got) ASSERT_EQ(number_of(m), expected++);
  }
}

}  // namespace
}  // namespace mlops::orchestration::testing
