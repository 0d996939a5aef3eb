#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <string>

#include "support/sample_messages.h"

namespace mes = mlops::messaging;

namespace {
std::string MessageBuilderRoundTrip(const std::string& json) {
  return mes::MessageBuilder::from_json(json).value().to_json().value();
}
}  // namespace

TEST(Json, TextNamesEveryField) {
  const auto json = mlops::testing::make_full_message().to_json();
  ASSERT_TRUE(json.has_value()) << json.error().message;
  for (const char* expected :
       {"\"msg_type\": \"COMPLETE\"", "\"creator_type\": \"MLOPS\"", "\"stage\": \"FINE_TUNE\"",
        "\"user_message\": \"epoch 12 done\"", "\"retries\": 3", "\"Sick-Topic\"", "\"evaluator\"",
        "\"learning_rate\"", "\"resnet50\"", "\"timestamp_ns\"", "\"list_fields\"",
        "\"key\": \"resnet-run-7\""}) {
    EXPECT_NE(json->find(expected), std::string::npos) << expected << " not in " << *json;
  }
  EXPECT_EQ(json->find('\n'), std::string::npos) << "one line, for logs";
}

TEST(Json, RoundTripKeepsEveryField) {
  for (const auto& original :
       {mlops::testing::make_seed_message(), mlops::testing::make_full_message()}) {
    const auto json = original.to_json();
    ASSERT_TRUE(json.has_value());
    auto parsed = mes::MessageBuilder::from_json(*json);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
    EXPECT_EQ(parsed->id(), original.id());
    EXPECT_EQ(parsed->timestamp(), original.timestamp());
    EXPECT_EQ(parsed->message_type(), original.message_type());
    EXPECT_EQ(parsed->topic().to_vector(), original.topic().to_vector());
    EXPECT_EQ(parsed->topic().is_list(), original.topic().is_list());
    EXPECT_EQ(parsed->creator(), original.creator());
    EXPECT_EQ(parsed->creator_type(), original.creator_type());
    EXPECT_EQ(parsed->stage(), original.stage());
    EXPECT_EQ(parsed->user_message(), original.user_message());
    EXPECT_EQ(parsed->key(), original.key());
    EXPECT_EQ(parsed->retries(), original.retries());
    EXPECT_EQ(parsed->output().to_vector(), original.output().to_vector());
    EXPECT_EQ(parsed->recipient().to_vector(), original.recipient().to_vector());
    // JSON has no bytes type: a blob comes back as the same bytes in a string.
    auto expected = original.additional_arguments();
    auto actual = parsed->additional_arguments();
    if (auto it = expected.find("checkpoint"); it != expected.end()) {
      ASSERT_EQ(actual.at("checkpoint").type(), mes::ValueType::kString);
      const auto& blob = *it->second.if_bytes();
      EXPECT_EQ(*actual.at("checkpoint").if_string(),
                std::string(reinterpret_cast<const char*>(blob.data()), blob.size()));
      expected.erase("checkpoint");
      actual.erase("checkpoint");
    }
    EXPECT_EQ(actual, expected);
    // FlatBuffers' parser stores a JSON null as an absent field (which reads as null), so
    // the text settles after one round trip and never changes again.
    const auto settled = parsed->to_json().value();
    EXPECT_EQ(MessageBuilderRoundTrip(settled), settled);
  }
}

TEST(Json, MessageWithoutIdGetsOne) {
  auto msg = mes::MessageBuilder::from_json(R"({"msg_type": "START", "user_message": "hi"})");
  ASSERT_TRUE(msg.has_value()) << msg.error().message;
  EXPECT_EQ(msg->message_type(), mes::MessageType::START);
  EXPECT_EQ(msg->user_message(), "hi");
  EXPECT_TRUE(msg->id().has_value());
  EXPECT_TRUE(msg->timestamp().has_value());
}

TEST(Json, AdditionalArgumentsFromJson) {
  auto msg = mes::MessageBuilder::from_json(
      R"({"additional_arguments": [{"key": "a", "value": {"x": [1, 2.5, "s", true, null]}},
                                    {"key": "b", "value": 7}]})");
  ASSERT_TRUE(msg.has_value()) << msg.error().message;
  const auto a = *msg->additional_argument("a");
  EXPECT_EQ(a.find("x")->size(), 5U);
  EXPECT_EQ((*a.find("x"))[1].as_double(), 2.5);
  EXPECT_EQ(msg->additional_argument("b")->as_int(), 7);
}

TEST(Json, BadTextIsAnErrorThatSaysWhy) {
  for (const char* bad : {"", "{", "not json", R"({"msg_type": "NOT_A_TYPE"})",
                          R"({"retries": "three"})", R"({"no_such_field": 1})", "[1, 2]"}) {
    auto msg = mes::MessageBuilder::from_json(bad);
    ASSERT_FALSE(msg.has_value()) << bad;
    EXPECT_EQ(msg.error().code, mlops::ErrorCode::kInvalidArgument);
    EXPECT_NE(msg.error().message.find("JSON"), std::string::npos);
  }
}

TEST(Json, UnsortedKeysInJsonAreStillFound) {
  // FlatBuffers' parser sorts (key) vectors itself; if it ever stopped, verification
  // would refuse the result rather than hand out a message with broken lookups.
  auto msg = mes::MessageBuilder::from_json(
      R"({"additional_arguments": [{"key": "z", "value": 1}, {"key": "a", "value": 2}]})");
  ASSERT_TRUE(msg.has_value()) << msg.error().message;
  EXPECT_EQ(msg->additional_argument("a")->as_int(), 2);
  EXPECT_EQ(msg->additional_argument("z")->as_int(), 1);
}

// from_json keeps one parser per thread: each message read must hold its own fields only,
// also after a text the parser rejected.
TEST(Json, EachMessageReadHoldsOnlyItsOwnFields) {
  const auto full = mes::MessageBuilder::from_json(
      R"({"msg_type": "START", "creator": "etl", "user_message": "first", "topic": ["a", "b"],
          "additional_arguments": [{"key": "k", "value": [1]}]})");
  ASSERT_TRUE(full.has_value()) << full.error().message;
  EXPECT_FALSE(mes::MessageBuilder::from_json(R"({"msg_type": "NOT_A_TYPE"})").has_value());
  for (int round = 0; round < 3; ++round) {
    const auto small = mes::MessageBuilder::from_json(R"({"user_message": "second"})");
    ASSERT_TRUE(small.has_value()) << small.error().message;
    EXPECT_EQ(small->user_message(), "second");
    EXPECT_FALSE(small->creator().has_value());
    EXPECT_TRUE(small->topic().empty());
    EXPECT_EQ(small->message_type(), mes::MessageType::OTHER);
    EXPECT_EQ(small->additional_argument_count(), 0U);
    EXPECT_LT(small->bytes().size(), full->bytes().size());
  }
  EXPECT_EQ(full->user_message(), "first");  // its bytes are its own, not the parser's
  EXPECT_EQ(full->topic()[1], "b");
}
