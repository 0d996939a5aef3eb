// MessageBuilder keeps its fields across build() (the original's behaviour), with reset()
// as the explicit path back to the defaults, and bounded memory when fields change.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

#include "mlops/messaging.h"

namespace mes = mlops::messaging;

TEST(BuilderReuse, OneFieldChangedKeepsEveryOther) {
  // The example: b.with_creator("x"); b.with_topic("a").build(); b.with_topic("b").build()
  mes::MessageBuilder builder;
  builder.with_creator("x").with_additional_argument("run", 7).with_next_task({"a", "b"});
  const auto m1 = builder.with_topic("a").build();
  const auto m2 = builder.with_topic("b").build();
  EXPECT_EQ(m1.topic()[0], "a");
  EXPECT_EQ(m2.topic()[0], "b");
  EXPECT_FALSE(m2.topic().is_list());
  for (const auto* m : {&m1, &m2}) {
    EXPECT_EQ(m->creator(), "x");
    EXPECT_EQ(m->additional_argument("run")->as_int(), 7);
    ASSERT_EQ(m->next_task().size(), 2U);
    EXPECT_TRUE(m->next_task().is_list());
    EXPECT_TRUE(mes::MLOpsMessage::from_bytes(m->bytes()).has_value());
  }
}

TEST(BuilderReuse, ExplicitIdAndTimestampApplyToOneMessage) {
  mes::MessageBuilder builder;
  const auto id = mes::MessageId{1, 2};
  const auto first = builder.with_id(id).with_timestamp(42).build();
  const auto second = builder.build();
  EXPECT_EQ(first.id(), id);
  EXPECT_EQ(first.timestamp(), 42);
  EXPECT_NE(second.id(), id);
  EXPECT_NE(second.timestamp(), 42);
}

TEST(BuilderReuse, BuildTwiceWithoutChangesGivesEqualFields) {
  mes::MessageBuilder builder;
  builder.with_user_msg("same").with_output(std::string("/x"));
  const auto view = builder.build_view();
  EXPECT_EQ(view.user_message(), "same");
  const auto again = builder.build();
  EXPECT_EQ(again.user_message(), "same");
  EXPECT_EQ(again.output()[0], "/x");
}

TEST(BuilderReuse, ChangingAFieldForeverStaysBounded) {
  // Each overwrite leaves wiped bytes behind; the builder compacts before they pile up.
  mes::MessageBuilder builder;
  builder.with_creator("stage").with_additional_argument("k", "v");
  std::size_t largest = 0;
  for (int i = 0; i < 20'000; ++i) {
    const auto view = builder.with_user_msg("message number " + std::to_string(i))
                          .with_additional_argument("i", i)
                          .build_view();
    largest = std::max(largest, view.bytes().size());
    ASSERT_EQ(view.creator(), "stage");
    ASSERT_EQ(view.additional_argument("i")->as_int(), i);
    ASSERT_EQ(view.additional_argument("k")->as_string(), "v");
  }
  EXPECT_LT(largest, std::size_t{16} << 10) << "wiped bytes must not pile up without bound";
}

TEST(BuilderReuse, OverwritingSmallFieldsKeepsMessagesNearAFreshOnesSize) {
  // Short overwrites leave argument tables and padding behind as well as wiped bytes;
  // a reused builder's messages once grew to megabytes this way.
  const auto fresh = mes::MessageBuilder()
                         .with_creator("stress")
                         .with_additional_argument("n", std::int64_t{1})
                         .build()
                         .bytes()
                         .size();
  mes::MessageBuilder builder;
  std::size_t largest = 0;
  for (std::int64_t n = 0; n < 50'000; ++n) {
    const auto view = builder.with_creator("stress").with_additional_argument("n", n).build_view();
    largest = std::max(largest, view.bytes().size());
    ASSERT_EQ(view.additional_argument("n")->as_int(), n);
    ASSERT_EQ(view.additional_argument_count(), 1U);
  }
  EXPECT_LE(largest, 2 * fresh + 512) << "fresh message: " << fresh << " bytes";
}

TEST(BuilderReuse, WithoutAdditionalArgumentRemovesOnlyThatKey) {
  mes::MessageBuilder builder;
  builder.with_additional_argument("secret", "hunter2").with_additional_argument("keep", 1);
  const auto before = builder.build();
  const auto after =
      builder.without_additional_argument("secret").without_additional_argument("absent").build();
  EXPECT_TRUE(before.additional_argument("secret").has_value());
  EXPECT_FALSE(after.additional_argument("secret").has_value());
  EXPECT_EQ(after.additional_argument("keep")->as_int(), 1);
  const std::string bytes(reinterpret_cast<const char*>(after.bytes().data()),
                          after.bytes().size());
  EXPECT_EQ(bytes.find("hunter2"), std::string::npos) << "a removed value leaves no trace";
}

// A builder made per message reuses the memory of the last one dropped on its thread: none
// of that builder's fields, nor its bytes, may reach the new builder's messages.
TEST(BuilderReuse, ADroppedBuildersFieldsNeverReachTheNextBuilder) {
  {
    mes::MessageBuilder dropped;
    (void)dropped.with_msg_type(mes::MessageType::FAIL)
        .with_creator_type(mes::CreatorType::MLOPS)
        .with_creator("hunter2-creator")
        .with_user_msg("hunter2-text")
        .with_topic({"hunter2-a", "hunter2-b"})
        .with_next_task("hunter2-task")
        .with_output({"hunter2-out"})
        .with_recipient("hunter2-recipient")
        .with_stage(mes::Stage::TRAIN)
        .with_retries(9)
        .with_key("hunter2-key")
        .with_additional_argument("hunter2-arg", "hunter2-value")
        .with_additional_data(mes::Value::Map{})
        .with_id(mes::MessageId{7, 8})
        .with_timestamp(99)
        .build_view();
  }
  for (int round = 0; round < 2; ++round) {  // the second takes the first one's memory
    const auto msg = mes::MessageBuilder().build();
    EXPECT_EQ(msg.message_type(), mes::MessageType::OTHER);
    EXPECT_EQ(msg.creator_type(), mes::CreatorType::UNKNOWN);
    EXPECT_FALSE(msg.creator().has_value());
    EXPECT_FALSE(msg.user_message().has_value());
    EXPECT_TRUE(msg.topic().empty());
    EXPECT_FALSE(msg.topic().is_list());
    EXPECT_TRUE(msg.next_task().empty());
    EXPECT_TRUE(msg.output().empty());
    EXPECT_TRUE(msg.recipient().empty());
    EXPECT_FALSE(msg.stage().has_value());
    EXPECT_EQ(msg.retries(), 0);
    EXPECT_FALSE(msg.key().has_value());
    EXPECT_EQ(msg.additional_argument_count(), 0U);
    EXPECT_FALSE(msg.additional_data_is_empty_map());
    EXPECT_NE(msg.id(), (mes::MessageId{7, 8}));
    EXPECT_NE(msg.timestamp(), 99);
    const std::string bytes(reinterpret_cast<const char*>(msg.bytes().data()), msg.bytes().size());
    EXPECT_EQ(bytes.find("hunter2"), std::string::npos);
  }
}

TEST(BuilderReuse, MoveAssigningABuilderKeepsOnlyTheMovedFields) {
  mes::MessageBuilder target;
  target.with_creator("old");
  mes::MessageBuilder source;
  source.with_user_msg("new");
  target = std::move(source);  // target's old State goes back to the thread's spare slot
  const auto msg = target.build();
  EXPECT_EQ(msg.user_message(), "new");
  EXPECT_FALSE(msg.creator().has_value());
  EXPECT_FALSE(mes::MessageBuilder().build().creator().has_value());
}

TEST(BuilderReuse, AMovedFromBuilderStartsAgainFromFreshFields) {
  mes::MessageBuilder source;
  source.with_creator("moved").with_additional_argument("k", 1);
  mes::MessageBuilder target(std::move(source));
  source.reset();  // NOLINT(bugprone-use-after-move): what this test is about
  const auto rebuilt = source.with_user_msg("again").with_additional_argument("n", 2).build();
  EXPECT_EQ(rebuilt.user_message(), "again");
  EXPECT_FALSE(rebuilt.creator().has_value()) << "nothing of the moved fields stays behind";
  EXPECT_EQ(rebuilt.additional_argument_count(), 1U);
  mes::MessageBuilder other;
  mes::MessageBuilder taken(std::move(other));
  EXPECT_EQ(other.build().bytes().size(), mes::MessageBuilder().build().bytes().size());  // NOLINT
  EXPECT_EQ(target.build().creator(), "moved");
}
