// The original library's JSON on the wire, on every backend (backend_cases()): consumers
// read it beside FlatBuffers messages, producers write it with wire=legacy-json.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/api_fixture.h"
#include "mlops/messaging/legacy_json.h"

namespace mlops::orchestration::testing {
namespace {

class LegacyWire : public BackendFixture {};

std::span<const std::uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

/// What the original's producer put on the wire for message `n`: json.dumps(...).encode().
std::string original_json(std::int64_t n) {
  return R"({"msg_type": "START", "topic": null, "creator": "legacy", "creator_type": "ETL", )"
         R"("stage": "TRAIN", "next_task": ["a", "b"], "usr_msg": "message )" +
         std::to_string(n) + R"(", "retries": )" + std::to_string(n) +
         R"(, "output": "/out", "recipient": null, "add_data": {"n": )" + std::to_string(n) +
         R"(, "nested": {"list": [1, "x"]}}})";
}

TEST_P(LegacyWire, OriginalsJsonIsReadAsAVerifiedMessage) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  ASSERT_EQ(pro.send_raw(topic, as_bytes(original_json(4))), Status::kOk);
  const auto got = receive_n(con, 1);
  ASSERT_EQ(got.size(), 1u);
  const auto& message = got[0];
  EXPECT_EQ(message.message_type(), mes::MessageType::START);
  EXPECT_EQ(message.creator(), "legacy");
  EXPECT_EQ(message.creator_type(), mes::CreatorType::MLOPS) << "normalised again";
  EXPECT_EQ(message.stage(), mes::Stage::TRAIN);
  EXPECT_TRUE(message.next_task().is_list());
  EXPECT_EQ(message.user_message(), "message 4");
  EXPECT_EQ(number_of(message), 4);
  EXPECT_EQ(message.additional_argument("nested")->find("list")->size(), 2u);
  EXPECT_TRUE(mes::MLOpsMessage::from_bytes(message.bytes()).has_value());
  EXPECT_EQ(con.stats().legacy, 1u);
  EXPECT_EQ(con.stats().received, 1u);
  EXPECT_EQ(con.stats().skipped_corrupt, 0u);
}

TEST_P(LegacyWire, MixedFlatBuffersAndLegacyRecordsOnOneTopicArriveInOrder) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  for (std::int64_t n = 0; n < 6; ++n) {
    if (n % 2 == 0) {
      ASSERT_EQ(pro.send(numbered(n)), Status::kOk);
    } else {
      ASSERT_EQ(pro.send_raw(topic, as_bytes(original_json(n))), Status::kOk);
    }
  }
  EXPECT_EQ(numbers_of(receive_n(con, 6)), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(con.stats().legacy, 3u);
  EXPECT_EQ(con.stats().received, 6u);
}

TEST_P(LegacyWire, BadLegacyPayloadsAreSkippedCountedAndLogged) {
  LogCapture logs;
  const auto topic = unique_name();
  auto con = consumer(topic);
  auto pro = producer(topic);
  std::string deep = R"({"add_data": )" + std::string(100, '[') + std::string(100, ']') + "}";
  const std::vector<std::string> bad = {
      R"({"retries": "three"})",      // wrong type
      R"({"msg_type": "START", )",    // cut short
      R"({"no_message": null})",      // the original's empty payload: no message in it
      deep,                           // too deeply nested
      R"({"stage": "NOT_A_STAGE"})",  // unknown enum text
  };
  for (const auto& payload : bad) ASSERT_EQ(pro.send_raw(topic, as_bytes(payload)), Status::kOk);
  ASSERT_EQ(pro.send(numbered(9)), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(con, 1)), std::vector<std::int64_t>{9});
  EXPECT_EQ(con.stats().skipped_legacy, bad.size());
  EXPECT_EQ(con.stats().skipped_corrupt, bad.size());
  EXPECT_EQ(con.stats().legacy, 0u);
  EXPECT_EQ(logs.count(LogLevel::kWarning, "not the original's JSON either"), 1u)
      << "logged at the 1st skip (then the 10th, 100th, ...)";
  EXPECT_EQ(logs.count(LogLevel::kWarning, "\"retries\" must be an integer, not string"), 1u);
}

TEST_P(LegacyWire, LegacyWireProducerSendsTheOriginalsJson) {
  const auto topic = unique_name();
  auto con = consumer(topic);
  ProducerOptions options;
  options.backend["wire"] = "legacy-json";
  auto pro = producer(topic, std::move(options));
  const auto sent = mes::MessageBuilder()
                        .with_msg_type(mes::MessageType::COMPLETE)
                        .with_topic(topic)
                        .with_recipient({"x", "y"})
                        .with_output(std::filesystem::path("/data/model.pt"))
                        .with_additional_argument("n", 11)
                        .build();
  ASSERT_EQ(pro.send(sent), Status::kOk);
  const auto got = receive_n(con, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(con.stats().legacy, 1u) << "it travelled as JSON";
  EXPECT_EQ(got[0].message_type(), mes::MessageType::COMPLETE);
  EXPECT_FALSE(got[0].topic().is_list());
  EXPECT_TRUE(got[0].recipient().is_list());
  EXPECT_EQ(got[0].output()[0], "/data/model.pt");
  EXPECT_EQ(mes::legacy_json::encode(got[0]).value(), mes::legacy_json::encode(sent).value())
      << "the same JSON again: every field kept its shape";
  EXPECT_EQ(pro.stats().sent, 1u);
}

TEST_P(LegacyWire, WireOptionInTheUriAndProducerOptionsWins) {
  auto uri = GetParam().make_uri(unique_name("w"));
  uri += (uri.find('?') == std::string::npos ? "?" : "&");
  auto legacy_orch = Orchestration::from_uri(uri + "wire=legacy-json");
  ASSERT_TRUE(legacy_orch) << legacy_orch.error().message;
  const auto topic = unique_name();
  auto con = Consumer::create(topic, *legacy_orch);
  ASSERT_TRUE(con) << con.error().message;
  auto legacy_pro = Producer::create(*legacy_orch, topic);
  ASSERT_TRUE(legacy_pro) << legacy_pro.error().message;
  ASSERT_EQ(legacy_pro->send(numbered(1)), Status::kOk);
  ProducerOptions flat;
  flat.backend["wire"] = "flatbuffers";
  auto flat_pro = Producer::create(*legacy_orch, topic, std::move(flat));
  ASSERT_TRUE(flat_pro) << flat_pro.error().message;
  ASSERT_EQ(flat_pro->send(numbered(2)), Status::kOk);
  EXPECT_EQ(numbers_of(receive_n(*con, 2)), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(con->stats().legacy, 1u) << "one of the two came as JSON";

  const auto bad_uri = Orchestration::from_uri(uri + "wire=xml");
  ASSERT_FALSE(bad_uri);
  EXPECT_NE(bad_uri.error().message.find("wire='xml' is not flatbuffers or legacy-json"),
            std::string::npos);
  ProducerOptions bad;
  bad.backend["wire"] = "protobuf";
  const auto refused = Producer::create(*orch_, topic, std::move(bad));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(LegacyWire, MessageTheJsonCannotCarryIsRefusedAndLogged) {
  LogCapture logs;
  const auto topic = unique_name();
  ProducerOptions options{.wire = WireFormat::kLegacyJson};
  auto pro = producer(topic, std::move(options));
  const std::byte blob[] = {std::byte{0}};
  const auto message = mes::MessageBuilder().with_additional_argument("b", std::span(blob)).build();
  EXPECT_EQ(pro.send(message), Status::kError);
  EXPECT_EQ(pro.stats().failed, 1u);
  EXPECT_GE(logs.count(LogLevel::kError, "legacy JSON cannot carry bytes"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, LegacyWire, ::testing::ValuesIn(backend_cases()), backend_name);

}  // namespace
}  // namespace mlops::orchestration::testing
