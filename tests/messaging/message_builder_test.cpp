#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/sample_messages.h"

namespace mes = mlops::messaging;

namespace {

bool bytes_contain(const mes::MLOpsMessage& msg, std::string_view needle) {
  const auto bytes = msg.bytes();
  const std::string_view haystack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return haystack.find(needle) != std::string_view::npos;
}

std::vector<std::string> strings(const mes::StringList& list) { return list.to_vector(); }

}  // namespace

TEST(MessageBuilder, SeedExampleReadsBack) {
  const std::string user_msg = "Hello World";
  const auto msg = mes::MessageBuilder()
                       .with_msg_type(mes::MessageType::START)
                       .with_creator_type("ETL")
                       .with_creator("ETL")
                       .with_user_msg(user_msg)
                       .with_next_task("Train")
                       .build();
  EXPECT_EQ(msg.user_message(), "Hello World");
  EXPECT_FALSE(msg.stage().has_value());
  EXPECT_EQ(msg.message_type(), mes::MessageType::START);
  EXPECT_EQ(msg.creator_type(), mes::CreatorType::MLOPS);
  EXPECT_EQ(msg.creator(), "ETL");
  EXPECT_EQ(strings(msg.next_task()), std::vector<std::string>{"Train"});
  EXPECT_FALSE(msg.next_task().is_list());
  EXPECT_TRUE(msg.is_owning());
}

TEST(MessageBuilder, DefaultsAreTheOriginals) {
  const auto msg = mes::MessageBuilder().build();
  EXPECT_EQ(msg.message_type(), mes::MessageType::OTHER);
  EXPECT_EQ(msg.creator_type(), mes::CreatorType::UNKNOWN);
  EXPECT_EQ(msg.retries(), 0);
  EXPECT_FALSE(msg.creator().has_value());
  EXPECT_FALSE(msg.user_message().has_value());
  EXPECT_FALSE(msg.key().has_value());
  EXPECT_FALSE(msg.stage().has_value());
  for (const auto& list : {msg.topic(), msg.next_task(), msg.output(), msg.recipient()}) {
    EXPECT_TRUE(list.empty());
    EXPECT_FALSE(list.is_list());
  }
  EXPECT_EQ(msg.additional_argument_count(), 0U);
  EXPECT_FALSE(msg.additional_argument("anything").has_value());
  EXPECT_TRUE(msg.additional_arguments().empty());
  ASSERT_TRUE(msg.id().has_value());
  ASSERT_TRUE(msg.timestamp().has_value());
  EXPECT_NEAR(static_cast<double>(*msg.timestamp()), static_cast<double>(mes::unix_now_ns()), 60e9);
}

TEST(MessageBuilder, EveryGetterReadsWhatWasSet) {
  const auto msg = mlops::testing::make_full_message();
  EXPECT_EQ(msg.message_type(), mes::MessageType::COMPLETE);
  EXPECT_EQ(strings(msg.topic()), (std::vector<std::string>{"Cool-New-Topic", "Sick-Topic"}));
  EXPECT_EQ(msg.creator(), "trainer-7");
  EXPECT_EQ(msg.creator_type(), mes::CreatorType::MLOPS);
  EXPECT_EQ(msg.stage(), mes::Stage::FINE_TUNE);
  EXPECT_EQ(strings(msg.next_task()), (std::vector<std::string>{"Evaluate", "Monitor"}));
  EXPECT_EQ(msg.user_message(), "epoch 12 done");
  EXPECT_EQ(msg.retries(), 3);
  EXPECT_EQ(strings(msg.output()),
            (std::vector<std::string>{"s3://models/resnet/12.pt", "/tmp/metrics.json"}));
  EXPECT_EQ(strings(msg.recipient()), (std::vector<std::string>{"evaluator", "dashboard"}));
  EXPECT_EQ(msg.key(), "resnet-run-7");
  EXPECT_EQ(msg.additional_argument_count(), 8U);
  EXPECT_EQ(msg.additional_argument("epochs")->as_int(), 12);
}

TEST(MessageBuilder, ExplicitIdAndTimestampAreKept) {
  const mes::MessageId id{0x0123456789abcdefULL, 0x8000000000000042ULL};
  const auto msg = mes::MessageBuilder().with_id(id).with_timestamp(1234567890).build();
  EXPECT_EQ(msg.id(), id);
  EXPECT_EQ(msg.timestamp(), 1234567890);
}

TEST(MessageBuilder, CreatorTypeEnumAndTextAgree) {
  EXPECT_EQ(
      mes::MessageBuilder().with_creator_type(mes::CreatorType::MONITOR).build().creator_type(),
      mes::CreatorType::MONITOR);
  EXPECT_EQ(mes::MessageBuilder().with_creator_type("DB Monitor").build().creator_type(),
            mes::CreatorType::MONITOR);
  EXPECT_EQ(mes::MessageBuilder().with_creator_type(std::string("nonsense")).build().creator_type(),
            mes::CreatorType::UNKNOWN);
}

TEST(MessageBuilder, LaterCallWinsForEveryField) {
  const auto msg = mes::MessageBuilder()
                       .with_msg_type(mes::MessageType::START)
                       .with_msg_type(mes::MessageType::FAIL)
                       .with_creator("first")
                       .with_creator("second")
                       .with_creator_type("etl")
                       .with_creator_type("storage")
                       .with_stage(mes::Stage::TRAIN)
                       .with_stage(mes::Stage::ETL)
                       .with_user_msg("first")
                       .with_user_msg("second")
                       .with_retries(1)
                       .with_retries(2)
                       .with_topic({"a", "b"})
                       .with_topic("c")
                       .with_next_task("x")
                       .with_next_task({"y"})
                       .with_output("o1")
                       .with_output("o2")
                       .with_recipient({"r1", "r2"})
                       .with_recipient({"r3"})
                       .with_key("first")
                       .with_key("second")
                       .with_additional_argument("k", 1)
                       .with_additional_argument("k", "two")
                       .build();
  EXPECT_EQ(msg.message_type(), mes::MessageType::FAIL);
  EXPECT_EQ(msg.creator(), "second");
  EXPECT_EQ(msg.creator_type(), mes::CreatorType::DUMP);
  EXPECT_EQ(msg.stage(), mes::Stage::ETL);
  EXPECT_EQ(msg.user_message(), "second");
  EXPECT_EQ(msg.retries(), 2);
  EXPECT_EQ(strings(msg.topic()), std::vector<std::string>{"c"});
  EXPECT_FALSE(msg.topic().is_list());
  EXPECT_EQ(strings(msg.next_task()), std::vector<std::string>{"y"});
  EXPECT_TRUE(msg.next_task().is_list());
  EXPECT_EQ(strings(msg.output()), std::vector<std::string>{"o2"});
  EXPECT_EQ(strings(msg.recipient()), std::vector<std::string>{"r3"});
  EXPECT_EQ(msg.key(), "second");
  EXPECT_EQ(msg.additional_argument_count(), 1U);
  EXPECT_EQ(msg.additional_argument("k")->as_string(), "two");
}

TEST(MessageBuilder, OverwrittenValueLeavesNoTrace) {
  const std::string secrets[] = {
      "SECRET-creator-4f1c", "SECRET-user-msg-9a2b", "SECRET-topic-77aa",
      "SECRET-task-13ee",    "SECRET-output-0c0c",   "SECRET-recipient-5d",
      "SECRET-arg-value-e1", "SECRET-arg-nested-f2", "SECRET-key-8b8b"};
  const auto msg = mes::MessageBuilder()
                       .with_creator(secrets[0])
                       .with_user_msg(secrets[1])
                       .with_topic({secrets[2], "kept-topic"})
                       .with_next_task(secrets[3])
                       .with_output({std::string_view(secrets[4])})
                       .with_recipient(secrets[5])
                       .with_additional_argument("password", secrets[6])
                       .with_additional_argument("nested", mes::Value::Map{{"token", secrets[7]}})
                       .with_key(secrets[8])
                       // Now overwrite every one of them.
                       .with_creator("public-creator")
                       .with_user_msg("public message")
                       .with_topic("public-topic")
                       .with_next_task({"public-task"})
                       .with_output("public-output")
                       .with_recipient({"public-recipient"})
                       .with_additional_argument("password", "********")
                       .with_additional_argument("nested", mes::Value::Map{{"token", "none"}})
                       .with_key("public-key")
                       .build();
  for (const auto& secret : secrets) {
    EXPECT_FALSE(bytes_contain(msg, secret)) << secret << " is still in the built bytes";
  }
  EXPECT_FALSE(bytes_contain(msg, "kept-topic")) << "the whole overwritten list goes";
  EXPECT_TRUE(bytes_contain(msg, "public-creator"));  // The search itself works.
  EXPECT_EQ(msg.additional_argument("password")->as_string(), "********");
  EXPECT_EQ(msg.additional_argument("nested")->find("token")->as_string(), "none");
  // The wiped bytes stay a valid message for any reader.
  EXPECT_TRUE(mes::MLOpsMessage::from_bytes(msg.bytes()).has_value());
}

TEST(MessageBuilder, EmptyKeyMeansNoKey) {
  EXPECT_FALSE(mes::MessageBuilder().with_key("").build().key().has_value());
  const auto msg = mes::MessageBuilder().with_key("SECRET-key-c3c3").with_key("").build();
  EXPECT_FALSE(msg.key().has_value());
  EXPECT_FALSE(bytes_contain(msg, "SECRET-key-c3c3"));
}

TEST(MessageBuilder, OneValueAndListKeepTheirShape) {
  const std::vector<std::string> many = {"a", "b", "c"};
  const std::vector<std::string> one = {"only"};
  const auto msg = mes::MessageBuilder()
                       .with_topic("single")
                       .with_next_task(many)
                       .with_output(one)
                       .with_recipient(std::vector<std::string>{})
                       .build();
  EXPECT_FALSE(msg.topic().is_list());
  EXPECT_EQ(msg.topic().size(), 1U);
  EXPECT_TRUE(msg.next_task().is_list());
  EXPECT_EQ(strings(msg.next_task()), many);
  EXPECT_TRUE(msg.output().is_list()) << "a list of one is still a list";
  EXPECT_EQ(strings(msg.output()), one);
  EXPECT_TRUE(msg.recipient().is_list()) << "an empty list is a list";
  EXPECT_TRUE(msg.recipient().empty());
}

TEST(MessageBuilder, OutputTakesPaths) {
  const std::filesystem::path model = "/models/resnet 50/weights.pt";
  const std::vector<std::filesystem::path> files = {"/a/b.txt", "relative/c.csv"};
  const auto single = mes::MessageBuilder().with_output(model).build();
  EXPECT_EQ(single.output()[0], model.string());
  EXPECT_FALSE(single.output().is_list());
  const auto many = mes::MessageBuilder().with_output(files).build();
  EXPECT_EQ(strings(many.output()), (std::vector<std::string>{"/a/b.txt", "relative/c.csv"}));
}

TEST(MessageBuilder, StringListIsARandomAccessRange) {
  const auto msg = mes::MessageBuilder().with_topic({"t0", "t1", "t2"}).build();
  const auto topics = msg.topic();
  EXPECT_EQ(topics.end() - topics.begin(), 3);
  EXPECT_EQ(topics[2], "t2");
  EXPECT_EQ(*(topics.begin() + 1), "t1");
  EXPECT_TRUE(std::ranges::find(topics, "t1") != topics.end());
}

TEST(MessageBuilder, AdditionalArgumentsOfEveryKind) {
  const auto msg = mlops::testing::make_full_message();
  EXPECT_EQ(msg.additional_argument("epochs")->as_int(), 12);
  EXPECT_EQ(msg.additional_argument("epochs")->as_double(), 12.0);
  EXPECT_EQ(msg.additional_argument("learning_rate")->as_double(), 0.001);
  EXPECT_FALSE(msg.additional_argument("learning_rate")->as_int().has_value());
  EXPECT_EQ(msg.additional_argument("early_stop")->as_bool(), true);
  EXPECT_EQ(msg.additional_argument("model")->as_string(), "resnet50");
  EXPECT_TRUE(msg.additional_argument("nothing")->is_null());
  const auto blob = msg.additional_argument("checkpoint")->as_bytes();
  ASSERT_TRUE(blob.has_value());
  ASSERT_EQ(blob->size(), 4U);
  EXPECT_EQ((*blob)[2], std::byte{0xfe});

  const auto layers = *msg.additional_argument("layers");
  EXPECT_EQ(layers.type(), mes::ValueType::kList);
  ASSERT_EQ(layers.size(), 3U);
  EXPECT_EQ(layers[1].as_int(), 32);
  EXPECT_EQ(layers[2][1].as_string(), "x");
  EXPECT_TRUE(layers[7].is_null());

  const auto metrics = *msg.additional_argument("metrics");
  EXPECT_EQ(metrics.type(), mes::ValueType::kMap);
  EXPECT_EQ(metrics.find("acc")->as_double(), 0.93);
  EXPECT_FALSE(metrics.find("missing").has_value());
  EXPECT_EQ(metrics.key_at(0), "acc");
  EXPECT_EQ(metrics.find("tags")->size(), 1U);

  EXPECT_FALSE(msg.additional_argument("absent").has_value());
  EXPECT_FALSE(msg.additional_argument("").has_value());
  EXPECT_FALSE(msg.additional_argument("zzzz").has_value());
}

TEST(MessageBuilder, AdditionalArgumentsAreKeySorted) {
  const auto msg = mes::MessageBuilder()
                       .with_additional_argument("zeta", 1)
                       .with_additional_argument("alpha", 2)
                       .with_additional_argument("mid", 3)
                       .build();
  ASSERT_EQ(msg.additional_argument_count(), 3U);
  EXPECT_EQ(msg.additional_argument_at(0).key, "alpha");
  EXPECT_EQ(msg.additional_argument_at(1).key, "mid");
  EXPECT_EQ(msg.additional_argument_at(2).key, "zeta");
  for (const char* key : {"alpha", "mid", "zeta"}) {
    EXPECT_TRUE(msg.additional_argument(key).has_value()) << key;
  }
}

TEST(MessageBuilder, BulkArgumentsAndAdditionalData) {
  const mes::Value::Map args = {{"a", 1}, {"b", mes::Value::List{true, nullptr}}};
  const auto msg = mes::MessageBuilder().with_additional_arguments(args).build();
  EXPECT_EQ(msg.additional_arguments(), args);

  const auto from_map =
      mes::MessageBuilder().with_additional_data(mes::Value::Map{{"x", 2}}).build();
  EXPECT_EQ(from_map.additional_argument("x")->as_int(), 2);
  const auto from_list = mes::MessageBuilder().with_additional_data(mes::Value::List{1, 2}).build();
  EXPECT_EQ(from_list.additional_argument("additional_data")->size(), 2U);
}

TEST(MessageBuilder, MisuseThrowsClearErrors) {
  mes::Value deep = 1;
  for (std::size_t i = 0; i <= mes::kMaxValueDepth; ++i) deep = mes::Value::List{deep};
  mes::MessageBuilder builder;
  EXPECT_THROW(builder.with_additional_argument("deep", deep), std::invalid_argument);
  EXPECT_THROW(
      builder.with_additional_argument("nul", mes::Value::Map{{std::string("a\0b", 3), 1}}),
      std::invalid_argument);
  // The builder is still usable after refusing.
  EXPECT_EQ(builder.with_user_msg("ok").build().user_message(), "ok");
}

TEST(MessageBuilder, DeepestAllowedValueRoundTrips) {
  mes::Value deep = "bottom";
  for (std::size_t i = 0; i < mes::kMaxValueDepth; ++i) deep = mes::Value::List{deep};
  const auto msg = mes::MessageBuilder().with_additional_argument("deep", deep).build();
  auto reread = mes::MLOpsMessage::from_bytes(msg.bytes());
  ASSERT_TRUE(reread.has_value()) << reread.error().message;
  EXPECT_EQ(reread->additional_argument("deep")->to_value(), deep);
}

TEST(MessageBuilder, BuildKeepsTheFieldsAndResetClearsThem) {
  mes::MessageBuilder builder;
  const auto first = builder.with_user_msg("one").with_stage(mes::Stage::TRAIN).build();
  const auto second = builder.with_creator("two").build();
  EXPECT_EQ(first.user_message(), "one");
  EXPECT_EQ(first.stage(), mes::Stage::TRAIN);
  EXPECT_FALSE(first.creator().has_value()) << "a later field does not reach an earlier message";
  EXPECT_EQ(second.user_message(), "one") << "the builder keeps its fields, as the original's";
  EXPECT_EQ(second.stage(), mes::Stage::TRAIN);
  EXPECT_EQ(second.creator(), "two");
  EXPECT_NE(first.bytes().data(), second.bytes().data());
  EXPECT_NE(first.id(), second.id()) << "every message gets an id of its own";
  builder.reset();
  const auto third = builder.with_retries(3).build();
  EXPECT_FALSE(third.user_message().has_value());
  EXPECT_FALSE(third.stage().has_value());
  EXPECT_FALSE(third.creator().has_value());
  EXPECT_EQ(third.retries(), 3);
}

TEST(MessageBuilder, BuildViewLivesUntilTheNextUse) {
  mes::MessageBuilder builder;
  const auto view = builder.with_user_msg("viewed").build_view();
  EXPECT_FALSE(view.is_owning());
  EXPECT_EQ(view.user_message(), "viewed");
  EXPECT_TRUE(mes::MLOpsMessage::from_bytes(view.bytes()).has_value());
  const auto next = builder.with_user_msg("next").build();
  EXPECT_EQ(next.user_message(), "next");
  EXPECT_FALSE(next.creator().has_value()) << "never set";
}

TEST(MessageBuilder, OwnedCopiesAViewAndSharesAnOwningMessage) {
  mes::MessageBuilder builder;
  const auto view = builder.with_user_msg("viewed").build_view();
  const auto kept = view.owned();
  EXPECT_TRUE(kept.is_owning());
  EXPECT_NE(kept.bytes().data(), view.bytes().data());
  EXPECT_TRUE(std::equal(kept.bytes().begin(), kept.bytes().end(), view.bytes().begin(),
                         view.bytes().end()));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(kept.bytes().data()) % 8, 0U);
  (void)builder.with_user_msg("the builder's buffer is reused").build_view();
  EXPECT_EQ(kept.user_message(), "viewed") << "the copy outlives the view";

  const auto owning = builder.with_user_msg("owned").build();
  EXPECT_EQ(owning.owned().bytes().data(), owning.bytes().data()) << "shared, not copied";
}

TEST(MessageBuilder, ResetDropsFields) {
  mes::MessageBuilder builder;
  builder.with_user_msg("dropped").with_retries(9);
  builder.reset();
  const auto msg = builder.build();
  EXPECT_FALSE(msg.user_message().has_value());
  EXPECT_EQ(msg.retries(), 0);
}

TEST(MessageBuilder, NamedBuilderChainsAndMoves) {
  mes::MessageBuilder builder;
  builder.with_topic("t").with_retries(4);
  mes::MessageBuilder moved = std::move(builder);
  const auto msg = moved.with_user_msg("m").build();
  EXPECT_EQ(msg.topic()[0], "t");
  EXPECT_EQ(msg.retries(), 4);
}

TEST(MessageBuilder, FromMessageCopiesEveryFieldButIdentity) {
  const auto original = mlops::testing::make_full_message();
  const auto copy = mes::MessageBuilder::from_message(original).with_retries(4).build();
  EXPECT_EQ(copy.retries(), 4);
  EXPECT_EQ(copy.message_type(), original.message_type());
  EXPECT_EQ(strings(copy.topic()), strings(original.topic()));
  EXPECT_EQ(copy.topic().is_list(), original.topic().is_list());
  EXPECT_EQ(copy.creator(), original.creator());
  EXPECT_EQ(copy.creator_type(), original.creator_type());
  EXPECT_EQ(copy.stage(), original.stage());
  EXPECT_EQ(strings(copy.next_task()), strings(original.next_task()));
  EXPECT_EQ(copy.user_message(), original.user_message());
  EXPECT_EQ(copy.key(), original.key());
  EXPECT_EQ(strings(copy.output()), strings(original.output()));
  EXPECT_EQ(strings(copy.recipient()), strings(original.recipient()));
  EXPECT_EQ(copy.additional_arguments(), original.additional_arguments());
  EXPECT_NE(copy.id(), original.id());
}
