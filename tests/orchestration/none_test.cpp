// The none backend: every call succeeds as a no-op; one warning in all.
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mlops::orchestration::testing {
namespace {

TEST(NoneBackend, EveryCallSucceedsAndReceiveReturnsAtOnce) {
  const auto orch = Orchestration::from_uri("none:");
  ASSERT_TRUE(orch) << orch.error().message;

  auto pro = Producer::create(*orch, "anything");
  ASSERT_TRUE(pro) << pro.error().message;
  EXPECT_EQ(pro->send(numbered(1)), Status::kOk);
  EXPECT_EQ(pro->send(numbered(2, {"a", "b"}), true), Status::kOk);
  EXPECT_EQ(pro->send_raw("anything", std::vector<std::uint8_t>{1, 2, 3}), Status::kOk);
  EXPECT_EQ(pro->flush(1s), Status::kOk);

  auto con = Consumer::create("anything", *orch, {.group = "g"});
  ASSERT_TRUE(con) << con.error().message;
  EXPECT_TRUE(con->subscribe({"x", "y"}, false));
  std::vector<mes::MLOpsMessage> out;
  const auto start = Clock::now();
  EXPECT_EQ(con->receive(out, {}, 10s), Status::kOk);
  EXPECT_TRUE(con->receive(10s).empty());
  EXPECT_LT(Clock::now() - start, 1s) << "none must not wait";
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(con->commit(), Status::kOk);
  EXPECT_TRUE(con->unsubscribe());

  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  EXPECT_TRUE(admin->validate_connection());
  EXPECT_TRUE(admin->create_topic("anything"));
  ASSERT_TRUE(admin->topics());
  EXPECT_TRUE(admin->topics()->empty());

  EXPECT_EQ(pro->close(), Status::kOk);
  con->close();
}

TEST(NoneBackend, WarnsAtMostOnce) {
  LogCapture logs;
  for (int i = 0; i < 3; ++i) {
    auto orch = Orchestration::from_uri("none:");
    ASSERT_TRUE(orch);
    auto pro = Producer::create(*orch, "t");
    ASSERT_TRUE(pro);
    EXPECT_EQ(pro->send(numbered(i)), Status::kOk);
  }
  // Once per process: zero here if an earlier test in this process opened none first.
  EXPECT_LE(logs.count(LogLevel::kWarning, "'none'"), 1u);
}

TEST(NoneBackend, StillAppliesTheApiRules) {
  const auto orch = Orchestration::from_uri("none:").value();
  auto pro = Producer::create(orch).value();
  EXPECT_EQ(pro.send(numbered(1)), Status::kNoTopic);
  EXPECT_EQ(pro.send(numbered(1, "bad topic")), Status::kInvalidTopic);
}

}  // namespace
}  // namespace mlops::orchestration::testing
