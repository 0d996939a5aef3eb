// legacy_json: the original library's JSON wire format, one documented behaviour per test.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mlops/messaging.h"

namespace mes = mlops::messaging;
namespace legacy = mlops::messaging::legacy_json;

namespace {

std::string encoded(const mes::MLOpsMessage& message) {
  auto json = legacy::encode(message);
  EXPECT_TRUE(json.has_value()) << json.error().message;
  return json ? *json : std::string();
}

std::string written(const mes::Value& value) {
  std::string out;
  EXPECT_TRUE(legacy::write(value, out).has_value());
  return out;
}

mes::MLOpsMessage decoded(std::string_view json) {
  auto message = legacy::decode(json);
  EXPECT_TRUE(message.has_value()) << json << ": " << message.error().message;
  return message ? *message : mes::MessageBuilder().build();
}

std::string decode_error(std::string_view json, const legacy::Limits& limits = {}) {
  auto message = legacy::decode(json, limits);
  EXPECT_FALSE(message.has_value()) << "accepted: " << json.substr(0, 200);
  return message ? std::string() : message.error().message;
}

}  // namespace

TEST(LegacyJson, DefaultMessageIsTheOriginalsDictInJsonDumpsForm) {
  EXPECT_EQ(encoded(mes::MessageBuilder().build()),
            R"({"msg_type": "OTHER", "topic": null, "creator": null, "creator_type": "unknown", )"
            R"("stage": null, "next_task": null, "usr_msg": null, "retries": 0, "output": null, )"
            R"("recipient": null, "add_data": null})");
}

TEST(LegacyJson, EveryFieldInTheOriginalsKeyOrderWithItsShape) {
  const auto message = mes::MessageBuilder()
                           .with_msg_type(mes::MessageType::START)
                           .with_topic({"a", "b"})
                           .with_creator("ETL")
                           .with_creator_type("ETL")
                           .with_stage(mes::Stage::FINE_TUNE)
                           .with_next_task("Train")
                           .with_user_msg("Hello World")
                           .with_retries(2)
                           .with_output(std::filesystem::path("/data/out.parquet"))
                           .with_recipient(std::vector<std::string>{"x"})
                           .with_additional_data(mes::Value::Map{
                               {"lr", 0.001}, {"layers", mes::Value::List{64, 32}}, {"ok", true}})
                           .build();
  EXPECT_EQ(encoded(message),
            R"({"msg_type": "START", "topic": ["a", "b"], "creator": "ETL", )"
            R"("creator_type": "mlops", "stage": "FINE_TUNE", "next_task": "Train", )"
            R"("usr_msg": "Hello World", "retries": 2, "output": "/data/out.parquet", )"
            R"("recipient": ["x"], "add_data": {"layers": [64, 32], "lr": 0.001, "ok": true}})");
}

TEST(LegacyJson, AddDataThatIsNoObjectReadsBackAsGiven) {
  const auto message =
      mes::MessageBuilder().with_additional_data(mes::Value::List{1, "two"}).build();
  EXPECT_NE(encoded(message).find(R"("add_data": [1, "two"]})"), std::string::npos);
  const auto text = mes::MessageBuilder().with_additional_data("just text").build();
  EXPECT_NE(encoded(text).find(R"("add_data": "just text"})"), std::string::npos);
}

TEST(LegacyJson, EmptyAddDataStaysAnEmptyObjectNotNull) {
  const auto decoded = legacy::decode(std::string_view(R"({"creator": "x", "add_data": {}})"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(decoded->additional_data_is_empty_map());
  EXPECT_NE(encoded(*decoded).find(R"("add_data": {}})"), std::string::npos) << encoded(*decoded);
  // Unset stays null; an argument set later makes the map non-empty.
  EXPECT_NE(encoded(mes::MessageBuilder().build()).find(R"("add_data": null})"), std::string::npos);
  mes::MessageBuilder builder;
  builder.with_additional_data(mes::Value::Map{});
  EXPECT_TRUE(builder.build().additional_data_is_empty_map());
  const auto filled = builder.with_additional_argument("k", 1).build();
  EXPECT_FALSE(filled.additional_data_is_empty_map());
  EXPECT_EQ(filled.additional_argument_count(), 1U);
  // Copies (and a reused builder's compaction, which copies) keep the shape.
  EXPECT_TRUE(mes::MessageBuilder::from_message(*decoded).build().additional_data_is_empty_map());
}

TEST(LegacyJson, FloatsAreWrittenAsPythonsRepr) {
  EXPECT_EQ(written(1.0), "1.0");
  EXPECT_EQ(written(0.1), "0.1");
  EXPECT_EQ(written(1e-05), "1e-05");
  EXPECT_EQ(written(0.0001), "0.0001");
  EXPECT_EQ(written(1e16), "1e+16");
  EXPECT_EQ(written(1e15), "1000000000000000.0");
  EXPECT_EQ(written(123456.789), "123456.789");
  EXPECT_EQ(written(-0.0), "-0.0");
  EXPECT_EQ(written(1.5e300), "1.5e+300");
  EXPECT_EQ(written(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(written(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(written(std::int64_t{-9'007'199'254'740'993}), "-9007199254740993");
}

TEST(LegacyJson, StringsAreAsciiWithPythonsEscapes) {
  EXPECT_EQ(written("a\"b\\c\n\r\t\b\f"), R"("a\"b\\c\n\r\t\b\f")");
  EXPECT_EQ(written(std::string("\x01\x7f", 2)), R"("\u0001\u007f")");
  EXPECT_EQ(written("caf\xC3\xA9"), R"("caf\u00e9")");
  EXPECT_EQ(written("\xF0\x9F\x98\x80"), R"("\ud83d\ude00")");  // U+1F600: a surrogate pair
  EXPECT_EQ(written(std::string("bad\xFF\xC3", 5)), R"("bad\ufffd\ufffd")");
  EXPECT_EQ(written(std::string("nul\0", 4)), R"("nul\u0000")");
}

TEST(LegacyJson, BytesCannotBeWrittenAndSaySo) {
  const std::byte blob[] = {std::byte{1}};
  const auto message =
      mes::MessageBuilder().with_additional_argument("blob", std::span(blob)).build();
  const auto json = legacy::encode(message);
  ASSERT_FALSE(json.has_value());
  EXPECT_EQ(json.error().code, mlops::ErrorCode::kInvalidArgument);
  EXPECT_NE(json.error().message.find("add_data[\"blob\"]"), std::string::npos)
      << json.error().message;
}

TEST(LegacyJson, RoundTripKeepsEveryFieldsShape) {
  const std::string original =
      R"({"msg_type": "COMPLETE", "topic": "one", "creator": "me", "creator_type": "dump", )"
      R"("stage": "ETL", "next_task": ["t1", "t2"], "usr_msg": "done \u00e9", "retries": 5, )"
      R"("output": ["/a", "/b"], "recipient": "r", )"
      R"("add_data": {"nested": {"deep": [1, 2.5, null, false, {"x": "y"}]}, "z": []}})";
  EXPECT_EQ(encoded(decoded(original)), original);
  const std::string lists =
      R"({"msg_type": "OTHER", "topic": [], "creator": null, "creator_type": "unknown", )"
      R"("stage": null, "next_task": [], "usr_msg": null, "retries": 0, "output": [], )"
      R"("recipient": [], "add_data": [[], {}]})";
  EXPECT_EQ(encoded(decoded(lists)), lists) << "an empty list stays a list";
}

TEST(LegacyJson, DecodeReadsEveryFieldAndNormalisesCreatorType) {
  const auto message = decoded(
      R"({"msg_type": "START", "topic": ["a", "b"], "creator": "ETL", "creator_type": "ETL",)"
      R"("stage": "TRAIN", "next_task": "Train", "usr_msg": "Hello World", "retries": 3,)"
      R"("output": "/x", "recipient": null, "add_data": {"k": 1}})");
  EXPECT_EQ(message.message_type(), mes::MessageType::START);
  EXPECT_TRUE(message.topic().is_list());
  EXPECT_EQ(message.topic()[1], "b");
  EXPECT_EQ(message.creator(), "ETL");
  EXPECT_EQ(message.creator_type(), mes::CreatorType::MLOPS);
  EXPECT_EQ(message.stage(), mes::Stage::TRAIN);
  EXPECT_FALSE(message.next_task().is_list());
  EXPECT_EQ(message.next_task()[0], "Train");
  EXPECT_EQ(message.user_message(), "Hello World");
  EXPECT_EQ(message.retries(), 3);
  EXPECT_EQ(message.output()[0], "/x");
  EXPECT_TRUE(message.recipient().empty());
  EXPECT_EQ(message.additional_argument("k")->as_int(), 1);
  EXPECT_TRUE(message.id().has_value()) << "a decoded message gets an id of its own";
  EXPECT_TRUE(mes::MLOpsMessage::from_bytes(message.bytes()).has_value());
}

TEST(LegacyJson, MissingAndUnknownKeysAreTolerated) {
  const auto message = decoded(R"( {"usr_msg": "only this", "extra": [1, 2]} )");
  EXPECT_EQ(message.user_message(), "only this");
  EXPECT_EQ(message.message_type(), mes::MessageType::OTHER);
  EXPECT_EQ(message.creator_type(), mes::CreatorType::UNKNOWN);
  EXPECT_EQ(decoded("\xEF\xBB\xBF{\"retries\": 1}").retries(), 1) << "a UTF-8 BOM is skipped";
}

TEST(LegacyJson, DuplicateKeysKeepTheLastAsJsonLoadsDoes) {
  EXPECT_EQ(decoded(R"({"usr_msg": "first", "usr_msg": "last"})").user_message(), "last");
}

TEST(LegacyJson, MalformedInputIsAnErrorThatSaysWhy) {
  EXPECT_NE(decode_error("{\"usr_msg\": ").find("not JSON"), std::string::npos);
  EXPECT_NE(decode_error("[1, 2]").find("JSON object, not list"), std::string::npos);
  EXPECT_NE(decode_error(R"({"no_message": null})").find("none of the message's keys"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"msg_type": "BEGIN"})").find("'BEGIN', not one of START"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"msg_type": 1})").find("\"msg_type\" must be a string, not int"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"stage": "NOPE"})").find("\"stage\""), std::string::npos);
  EXPECT_NE(decode_error(R"({"topic": 5})").find("a string or a list of strings, not int"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"topic": ["a", 5]})").find("\"topic[1]\" must be a string"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"creator": {}})").find("\"creator\" must be a string, not map"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"retries": 1.5})").find("an integer, not double"), std::string::npos);
  EXPECT_NE(decode_error(R"({"retries": true})").find("an integer, not bool"), std::string::npos);
  EXPECT_NE(decode_error(R"({"retries": 4294967296})").find("outside 32 bits"), std::string::npos);
  EXPECT_NE(decode_error(R"({"add_data": {"x": {"a\u0000b": 1}}})").find("NUL"), std::string::npos);
  EXPECT_NE(decode_error("{\"usr_msg\": \"\xFF\"}").find("not JSON"), std::string::npos)
      << "invalid UTF-8 is refused";
  const auto bad_utf8 = decode_error("{\"usr_msg\": \"\xFF\"}");
  EXPECT_NE(bad_utf8.find("\\xff"), std::string::npos)
      << "the bad byte is named, escaped: " << bad_utf8;
  for (const char c : bad_utf8)
    EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "error texts are printable ASCII";
  const auto long_enum = decode_error("{\"msg_type\": \"" + std::string(10'000, 'X') + "\"}");
  EXPECT_LT(long_enum.size(), 300u) << "input quoted in an error is cut short";
  EXPECT_NE(decode_error(R"({"retries": NaN})").find("not JSON"), std::string::npos);
  EXPECT_EQ(legacy::decode("").error().code, mlops::ErrorCode::kEmpty);
}

TEST(LegacyJson, NulByteAnywhereIsRefusedNotTakenForTheEnd) {
  using namespace std::string_literals;
  for (const auto& text : {"{\"usr_msg\": \"a\"}\0garbage{{{\xff"s, "{\"usr_msg\": \"a\0b\"}"s,
                           "\0{\"usr_msg\": \"a\"}"s, "{\"usr_msg\": \"a\"}\0"s}) {
    SCOPED_TRACE(testing::PrintToString(text));
    const auto decoded = legacy::decode(text);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().code, mlops::ErrorCode::kInvalidArgument);
    EXPECT_NE(decoded.error().message.find("NUL byte at offset " + std::to_string(text.find('\0'))),
              std::string::npos)
        << decoded.error().message;
    EXPECT_FALSE(legacy::parse(text));
  }
}

TEST(LegacyJson, SecondByteOrderMarkIsRefused) {
  EXPECT_EQ(decoded("\xEF\xBB\xBF{\"usr_msg\": \"a\"}").user_message(), "a") << "one is skipped";
  EXPECT_NE(
      decode_error("\xEF\xBB\xBF\xEF\xBB\xBF{\"usr_msg\": \"a\"}").find("second byte order mark"),
      std::string::npos);
}

TEST(LegacyJson, KeysThatBecomeTheSameAfterUtf8ReplacementAreRefused) {
  const auto message = mes::MessageBuilder()
                           .with_additional_argument("k\xff", 1)
                           .with_additional_argument("k\xfe", 2)
                           .build();
  const auto both = legacy::encode(message);
  ASSERT_FALSE(both) << *both;
  EXPECT_EQ(both.error().code, mlops::ErrorCode::kInvalidArgument);
  EXPECT_NE(both.error().message.find("U+FFFD"), std::string::npos) << both.error().message;
  const auto nested =
      legacy::encode(mes::MessageBuilder()
                         .with_additional_data(mes::Value::Map{{"k\xff", 1}, {"k\xfe", 2}})
                         .build());
  EXPECT_FALSE(nested);
  std::string out;
  EXPECT_FALSE(legacy::write(mes::Value::Map{{"k\xff", 1}, {"k\xfe", 2}}, out));
  // One such key alone is written with U+FFFD, and keys that differ after it are kept.
  const auto one =
      legacy::decode(encoded(mes::MessageBuilder().with_additional_argument("k\xff", 1).build()));
  ASSERT_TRUE(one) << one.error().message;
  const auto replaced = one->additional_argument("k\xef\xbf\xbd");
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(replaced->as_int(), 1);
  EXPECT_TRUE(legacy::encode(mes::MessageBuilder()
                                 .with_additional_argument("a\xff", 1)
                                 .with_additional_argument("b\xff", 2)
                                 .build()));
}

TEST(LegacyJson, DepthAndSizeAreLimited) {
  std::string deep = R"({"add_data": )";
  for (int i = 0; i < 62; ++i) deep += '[';
  std::string closing(62, ']');
  EXPECT_EQ(decoded(deep + closing + "}").additional_argument("additional_data")->size(), 1U)
      << "64 levels in all are allowed";
  EXPECT_NE(decode_error(deep + "[[" + closing + "]]}").find("deeper than 64"), std::string::npos);
  std::string very_deep(1'000'000, '[');  // no recursion: refused at level 65, no stack spent
  EXPECT_NE(decode_error(very_deep).find("deeper than 64"), std::string::npos);

  const std::string big = R"({"usr_msg": ")" + std::string(1000, 'x') + "\"}";
  const auto refused = legacy::decode(big, legacy::Limits{.max_bytes = 100});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, mlops::ErrorCode::kTooLarge);
  EXPECT_TRUE(legacy::decode(big, legacy::Limits{.max_bytes = big.size()}).has_value());
  EXPECT_NE(
      decode_error(R"({"add_data": [[1]]})", legacy::Limits{.max_depth = 2}).find("deeper than 2"),
      std::string::npos);
}

TEST(LegacyJson, LooksLikeTellsJsonObjectsFromFlatBuffers) {
  const auto bytes = [](std::string_view text) {
    return std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  };
  EXPECT_TRUE(legacy::looks_like(bytes("{}")));
  EXPECT_TRUE(legacy::looks_like(bytes(" \r\n\t{")));
  EXPECT_TRUE(legacy::looks_like(bytes("\xEF\xBB\xBF{")));
  EXPECT_FALSE(legacy::looks_like(bytes("[]")));
  EXPECT_FALSE(legacy::looks_like(bytes("")));
  EXPECT_FALSE(legacy::looks_like(bytes("   ")));
  const auto message = mes::MessageBuilder().with_user_msg("{").build();
  EXPECT_FALSE(legacy::looks_like(message.bytes()));
}

TEST(LegacyJson, ParseGivesValuesOfTheirJsonKinds) {
  const auto value = legacy::parse(R"({"i": -3, "big": 18446744073709551615, "d": 2.5, "s": "x"})");
  ASSERT_TRUE(value.has_value()) << value.error().message;
  const auto& map = *value->if_map();
  EXPECT_EQ(*map.at("i").if_int(), -3);
  EXPECT_DOUBLE_EQ(*map.at("big").if_double(), 18446744073709551615.0);
  EXPECT_EQ(*map.at("d").if_double(), 2.5);
  EXPECT_EQ(*map.at("s").if_string(), "x");
}
