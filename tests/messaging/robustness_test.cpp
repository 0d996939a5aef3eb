// from_bytes on hostile input: every outcome is a message that reads fully or an error
// that says what was wrong. Run under ASan+UBSan in CI.
#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mlops/messaging/detail/mlops_message_generated.h"
#include "support/crafted_flexbuffers.h"
#include "support/sample_messages.h"

namespace mes = mlops::messaging;
namespace wire = mlops::messaging::wire;

namespace {

// Either a full read or a described error; counts which happened.
struct Outcome {
  int verified = 0;
  int refused = 0;
};

void check(std::span<const std::uint8_t> bytes, Outcome& outcome) {
  auto msg = mes::MLOpsMessage::from_bytes(bytes);
  if (msg) {
    (void)mlops::testing::read_everything(*msg);
    ++outcome.verified;
  } else {
    ASSERT_FALSE(msg.error().message.empty());
    ++outcome.refused;
  }
}

std::vector<std::uint8_t> bytes_of(const mes::MLOpsMessage& msg) {
  return {msg.bytes().begin(), msg.bytes().end()};
}

// A message whose additional_arguments hold exactly these (key, flexbuffer) pairs, in this
// order, written with the generated code so none of MessageBuilder's care applies.
std::vector<std::uint8_t> craft(
    const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& args,
    std::size_t value_alignment = 8) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<wire::Argument>> tables;
  for (const auto& [key, value] : args) {
    const auto k = fbb.CreateString(key);
    fbb.ForceVectorAlignment(value.size(), 1, value_alignment);
    const auto v = fbb.CreateVector(value);
    tables.push_back(wire::CreateArgument(fbb, k, v));
  }
  const auto vec = fbb.CreateVector(tables);
  wire::MessageBuilder table(fbb);
  table.add_additional_arguments(vec);
  wire::FinishMessageBuffer(fbb, table.Finish());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> flex_int(std::int64_t value) {
  flexbuffers::Builder flex;
  flex.Int(value);
  flex.Finish();
  return flex.GetBuffer();
}

}  // namespace

TEST(FromBytes, EmptyInputIsAnError) {
  auto msg = mes::MLOpsMessage::from_bytes(std::span<const std::uint8_t>());
  ASSERT_FALSE(msg.has_value());
  EXPECT_EQ(msg.error().code, mlops::ErrorCode::kEmpty);
}

TEST(FromBytes, EveryTruncationOfTwoMessages) {
  for (const auto& msg :
       {mlops::testing::make_seed_message(), mlops::testing::make_full_message()}) {
    const auto bytes = bytes_of(msg);
    Outcome outcome;
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      check(std::span(bytes.data(), length), outcome);
    }
    EXPECT_EQ(outcome.verified + outcome.refused, static_cast<int>(bytes.size()));
    EXPECT_GT(outcome.refused, 0);
  }
  auto short_one = mes::MLOpsMessage::from_bytes(
      std::span(bytes_of(mlops::testing::make_seed_message()).data(), 5));
  ASSERT_FALSE(short_one.has_value());
  EXPECT_EQ(short_one.error().code, mlops::ErrorCode::kTruncated);
}

TEST(FromBytes, EverySingleBitFlipOfTwoMessages) {
  for (const auto& msg :
       {mlops::testing::make_seed_message(), mlops::testing::make_full_message()}) {
    auto bytes = bytes_of(msg);
    Outcome outcome;
    for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
      bytes[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
      check(bytes, outcome);
      bytes[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
    }
    EXPECT_EQ(outcome.verified + outcome.refused, static_cast<int>(bytes.size() * 8));
    EXPECT_GT(outcome.refused, 0) << "flips in offsets and the identifier must be caught";
    EXPECT_GT(outcome.verified, 0) << "flips inside string bytes still verify";
  }
}

TEST(FromBytes, WrongIdentifierIsNamed) {
  auto bytes = bytes_of(mlops::testing::make_seed_message());
  bytes[4] = 'X';
  auto msg = mes::MLOpsMessage::from_bytes(bytes);
  ASSERT_FALSE(msg.has_value());
  EXPECT_EQ(msg.error().code, mlops::ErrorCode::kWrongIdentifier);
  EXPECT_NE(msg.error().message.find("XLOP"), std::string::npos) << msg.error().message;
  auto text = mes::MLOpsMessage::from_bytes(std::string_view("plain text from another client"));
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().code, mlops::ErrorCode::kWrongIdentifier);
}

TEST(FromBytes, TwoGibibytesAreRefusedBeforeReading) {
  // The span claims 2 GiB over a tiny buffer: refusal must come before any byte is read.
  std::uint64_t tiny[2] = {};
  const auto* data = reinterpret_cast<const std::uint8_t*>(tiny);
  const std::size_t huge = std::size_t{1} << 31;
  for (auto result : {mes::MLOpsMessage::from_bytes(std::span(data, huge)),
                      mes::MLOpsMessage::borrow(std::span(data, huge)),
                      mes::MLOpsMessage::from_bytes(std::span(data, huge),
                                                    mes::VerifyLimits{.max_bytes = SIZE_MAX})}) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, mlops::ErrorCode::kTooLarge);
  }
}

TEST(FromBytes, LimitsAreHonoured) {
  const auto bytes = bytes_of(mlops::testing::make_full_message());
  auto too_big = mes::MLOpsMessage::from_bytes(bytes, {.max_bytes = bytes.size() - 1});
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code, mlops::ErrorCode::kTooLarge);
  auto few_tables = mes::MLOpsMessage::from_bytes(bytes, {.max_tables = 3});
  ASSERT_FALSE(few_tables.has_value());
  EXPECT_EQ(few_tables.error().code, mlops::ErrorCode::kCorrupt);
  auto shallow = mes::MLOpsMessage::from_bytes(bytes, {.max_depth = 1});
  EXPECT_FALSE(shallow.has_value());
  EXPECT_TRUE(mes::MLOpsMessage::from_bytes(bytes, {.max_bytes = bytes.size()}).has_value());
}

TEST(FromBytes, RandomBytes) {
  std::mt19937_64 rng(20261127);
  Outcome outcome;
  std::vector<std::uint8_t> bytes;
  for (int round = 0; round < 20'000; ++round) {
    bytes.resize(rng() % 512);
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(rng());
    // Half the rounds carry the right identifier, so the Verifier itself is exercised.
    if (round % 2 == 0 && bytes.size() >= 8) std::memcpy(bytes.data() + 4, "MLOP", 4);
    check(bytes, outcome);
  }
  EXPECT_GT(outcome.refused, 19'000);
}

TEST(FromBytes, UnsortedOrDuplicateKeysAreRefused) {
  auto unsorted = mes::MLOpsMessage::from_bytes(craft({{"b", flex_int(1)}, {"a", flex_int(2)}}));
  ASSERT_FALSE(unsorted.has_value());
  EXPECT_EQ(unsorted.error().code, mlops::ErrorCode::kCorrupt);
  EXPECT_NE(unsorted.error().message.find("sorted"), std::string::npos);
  EXPECT_FALSE(
      mes::MLOpsMessage::from_bytes(craft({{"a", flex_int(1)}, {"a", flex_int(2)}})).has_value());
  EXPECT_TRUE(
      mes::MLOpsMessage::from_bytes(craft({{"a", flex_int(1)}, {"b", flex_int(2)}})).has_value());
}

TEST(FromBytes, MisalignedFlexBufferIsRefused) {
  flexbuffers::Builder flex;
  flex.Int(INT64_MAX);  // 8 bytes wide: needs 8-byte alignment to be read in place.
  flex.Finish();
  // Alignment 4 lands the value on an address that is 4 (mod 8) in about half the layouts;
  // try both paddings so one of them is misaligned.
  int refused = 0;
  for (const std::string key : {"k", "kk", "kkkkk"}) {
    auto msg = mes::MLOpsMessage::from_bytes(craft({{key, flex.GetBuffer()}}, 4));
    if (!msg) {
      EXPECT_NE(msg.error().message.find("misaligned"), std::string::npos);
      ++refused;
    } else {
      EXPECT_EQ(msg->additional_argument(key)->as_int(), INT64_MAX);
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(FromBytes, UnterminatedMapKeyIsRefused) {
  // FlatBuffers 2.0.8's FlexBuffers verifier accepts a key without its NUL; readers use
  // strlen on keys. A map whose key's NUL is replaced and after which no zero byte follows
  // would make a reader run off the end of the buffer.
  const auto maps = mlops::testing::maps_with_unterminated_key();
  ASSERT_FALSE(maps.empty()) << "could not craft a buffer without a later zero byte";
  auto msg = mes::MLOpsMessage::from_bytes(craft({{"k", maps.front().damaged}}));
  ASSERT_FALSE(msg.has_value()) << "a key running off the end was accepted";
  EXPECT_EQ(msg.error().code, mlops::ErrorCode::kCorrupt);
  EXPECT_NE(msg.error().message.find("NUL"), std::string::npos) << msg.error().message;
}

TEST(FromBytes, DeepFlexBufferIsRefused) {
  flexbuffers::Builder flex;
  std::vector<std::size_t> starts;
  for (int i = 0; i < 200; ++i) starts.push_back(flex.StartVector());
  flex.Int(1);
  for (auto it = starts.rbegin(); it != starts.rend(); ++it) flex.EndVector(*it, false, false);
  flex.Finish();
  auto msg = mes::MLOpsMessage::from_bytes(craft({{"deep", flex.GetBuffer()}}));
  ASSERT_FALSE(msg.has_value());
  EXPECT_EQ(msg.error().code, mlops::ErrorCode::kCorrupt);
}

TEST(FromBytes, HugeFlexBufferVerifiesOrIsRefusedQuickly) {
  flexbuffers::Builder flex;
  const auto start = flex.StartVector();
  for (int i = 0; i < 200'000; ++i) flex.Int(i);
  flex.EndVector(start, false, false);
  flex.Finish();
  auto msg = mes::MLOpsMessage::from_bytes(craft({{"huge", flex.GetBuffer()}}));
  ASSERT_TRUE(msg.has_value()) << msg.error().message;
  EXPECT_EQ(msg->additional_argument("huge")->size(), 200'000U);
  EXPECT_EQ((*msg->additional_argument("huge"))[199'999].as_int(), 199'999);
}

TEST(FromBytes, SharedReferencesPastTheBudgetAreRefused) {
  // Shared references that would make every reader walk 20 values per byte (wide) or 2^60
  // (doubling); the FlatBuffers Verifier with its reuse tracker accepted both.
  for (const auto& flex : {mlops::testing::wide_dag(60, 120), mlops::testing::doubling_dag(60)}) {
    auto msg = mes::MLOpsMessage::from_bytes(craft({{"dag", flex}}));
    ASSERT_FALSE(msg.has_value());
    EXPECT_EQ(msg.error().code, mlops::ErrorCode::kCorrupt);
    EXPECT_NE(msg.error().message.find("'dag'"), std::string::npos) << msg.error().message;
  }
  auto wide = mes::MLOpsMessage::from_bytes(craft({{"dag", mlops::testing::wide_dag(60, 120)}}));
  EXPECT_NE(wide.error().message.find("shares nodes"), std::string::npos) << wide.error().message;
  // A little sharing reads: 4 references to one 4-element list.
  auto small = mes::MLOpsMessage::from_bytes(craft({{"dag", mlops::testing::wide_dag(4, 4)}}));
  ASSERT_TRUE(small.has_value()) << small.error().message;
  EXPECT_EQ((*small->additional_argument("dag"))[3][3].as_int(), 3);
}

TEST(FromBytes, CyclicFlexBufferIsRefused) {
  auto msg = mes::MLOpsMessage::from_bytes(craft({{"cycle", mlops::testing::self_cycle()}}));
  ASSERT_FALSE(msg.has_value());
  EXPECT_EQ(msg.error().code, mlops::ErrorCode::kCorrupt);
}

TEST(FromBytes, DeprecatedStringVectorOverrunIsRefused) {
  // Its one string's length byte says 200 in a 9-byte FlexBuffer; a reader would run past it.
  auto msg = mes::MLOpsMessage::from_bytes(
      craft({{"strings", mlops::testing::deprecated_string_vector(200)}}));
  ASSERT_FALSE(msg.has_value());
  EXPECT_EQ(msg.error().code, mlops::ErrorCode::kCorrupt);
  auto fits = mes::MLOpsMessage::from_bytes(
      craft({{"strings", mlops::testing::deprecated_string_vector(2)}}));
  ASSERT_TRUE(fits.has_value()) << fits.error().message;
  EXPECT_EQ((*fits->additional_argument("strings"))[0].as_string(), "ab");
}

TEST(FromBytes, ForeignMessageWithoutOptionalFieldsReads) {
  // A minimal message another FlatBuffers writer might send: no id, no timestamp, an
  // argument without a value.
  flatbuffers::FlatBufferBuilder fbb;
  const auto key = fbb.CreateString("bare");
  const auto arg = wire::CreateArgument(fbb, key);
  const auto args = fbb.CreateVector(&arg, 1);
  wire::MessageBuilder table(fbb);
  table.add_additional_arguments(args);
  wire::FinishMessageBuffer(fbb, table.Finish());
  auto msg = mes::MLOpsMessage::from_bytes(std::span(fbb.GetBufferPointer(), fbb.GetSize()));
  ASSERT_TRUE(msg.has_value()) << msg.error().message;
  EXPECT_FALSE(msg->id().has_value());
  EXPECT_FALSE(msg->timestamp().has_value());
  EXPECT_TRUE(msg->additional_argument("bare")->is_null());
  const auto copy = mes::MessageBuilder::from_message(*msg).build();
  EXPECT_TRUE(copy.additional_argument("bare")->is_null());
  EXPECT_TRUE(copy.id().has_value());
}
