// Timeouts that mean "no limit" (milliseconds::max()) must wait, not overflow the clock into
// a deadline in the past that returns at once (UBSan in the asan build also catches the
// overflow itself).
#include "orchestration/deadline.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace mlops::orchestration::testing {
namespace {

using std::chrono::milliseconds;

TEST(Deadline, HugeTimeoutIsAFarDeadline) {
  const auto before = Clock::now();
  const auto deadline = detail::deadline_after(milliseconds::max());
  EXPECT_GT(deadline, before + std::chrono::hours(24 * 365 * 99));
  EXPECT_EQ(detail::clamp_timeout(milliseconds::max()), detail::kMaxTimeout);
  EXPECT_EQ(detail::clamp_timeout(milliseconds(std::numeric_limits<milliseconds::rep>::min())),
            milliseconds::zero());
  EXPECT_EQ(detail::clamp_timeout(milliseconds(1500)), milliseconds(1500));
}

// A filtered-out message makes receive() wait for more until its deadline: with the deadline
// overflowed into the past it gave up after the first batch. The filter sends the message it
// then accepts, so the test needs no second thread and no sleep.
TEST(Consumer, MaxTimeoutWaitsPastAFilteredBatch) {
  const auto orch = Orchestration::from_uri("inproc://" + unique_name("broker")).value();
  const auto topic = unique_name();
  auto con = Consumer::create(topic, orch).value();
  auto pro = Producer::create(orch, topic).value();
  ASSERT_EQ(pro.send(numbered(1)), Status::kOk);
  auto accept_two = [&](const mes::MLOpsMessage& message) {
    if (number_of(message) == 1) {
      EXPECT_EQ(pro.send(numbered(2)), Status::kOk);
      return false;
    }
    return true;
  };
  std::vector<mes::MLOpsMessage> got;
  EXPECT_EQ(con.receive(got, accept_two, milliseconds::max()), Status::kOk);
  EXPECT_EQ(numbers_of(got), std::vector<std::int64_t>{2});
}

// A full topic under kBlock: the send waits for the consumer that makes room (with the
// deadline in the past it returned kTimeout at once).
TEST(Producer, MaxSendTimeoutWaitsForRoom) {
  const auto broker = unique_name("broker");
  const auto orch = Orchestration::from_uri("inproc://" + broker).value();
  const auto topic = unique_name();
  ASSERT_TRUE(Admin::create(orch).value().create_topic(topic, {.max_messages = 1}));
  auto con = Consumer::create(topic, orch, {.group = "slow"}).value();
  auto pro =
      Producer::create(orch, topic,
                       {.send_timeout = milliseconds::max(), .flush_timeout = milliseconds::max()})
          .value();
  ASSERT_EQ(pro.send(numbered(1)), Status::kOk);  // the topic is full now
  std::vector<std::int64_t> got;
  std::thread making_room([&] {
    got = numbers_of(receive_n(con, 1));
    EXPECT_EQ(con.commit(), Status::kOk);
  });
  EXPECT_EQ(pro.send(numbered(2), /*flush=*/true), Status::kOk);
  making_room.join();
  EXPECT_EQ(got, std::vector<std::int64_t>{1});
  EXPECT_EQ(pro.flush(milliseconds::max()), Status::kOk);
  EXPECT_EQ(pro.close(), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(con, 1)), std::vector<std::int64_t>{2});
}

TEST(Admin, MaxTimeoutValidatesTheConnection) {
  const auto orch = Orchestration::from_uri("inproc://" + unique_name("broker")).value();
  EXPECT_TRUE(Admin::create(orch).value().validate_connection(milliseconds::max()));
}

}  // namespace
}  // namespace mlops::orchestration::testing
