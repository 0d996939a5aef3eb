#include <gtest/gtest.h>
#include <mlops/messaging.h>

namespace mes = mlops::messaging;

TEST(Value, KindsAndAccessors) {
  EXPECT_EQ(mes::Value().type(), mes::ValueType::kNull);
  EXPECT_EQ(mes::Value(nullptr).type(), mes::ValueType::kNull);
  EXPECT_EQ(mes::Value(true).type(), mes::ValueType::kBool);
  EXPECT_EQ(mes::Value(7).type(), mes::ValueType::kInt);
  EXPECT_EQ(mes::Value(7u).type(), mes::ValueType::kInt);
  EXPECT_EQ(mes::Value(2.5).type(), mes::ValueType::kDouble);
  EXPECT_EQ(mes::Value("s").type(), mes::ValueType::kString);
  EXPECT_EQ(mes::Value(mes::Value::Bytes{std::byte{1}}).type(), mes::ValueType::kBytes);
  EXPECT_EQ(mes::Value(mes::Value::List{}).type(), mes::ValueType::kList);
  EXPECT_EQ(mes::Value(mes::Value::Map{}).type(), mes::ValueType::kMap);
  EXPECT_EQ(*mes::Value(7).if_int(), 7);
  EXPECT_EQ(mes::Value(7).if_double(), nullptr);
  EXPECT_EQ(mes::to_string(mes::ValueType::kMap), "map");
}

TEST(Value, DepthCountsNesting) {
  EXPECT_EQ(mes::Value(1).depth(), 0U);
  EXPECT_EQ(mes::Value(mes::Value::List{1, 2}).depth(), 1U);
  // Value(...) around the inner list: List{List{}} alone would be a copy of the empty list.
  EXPECT_EQ(
      mes::Value(mes::Value::Map{{"a", mes::Value::List{mes::Value(mes::Value::List{})}}}).depth(),
      3U);
}

TEST(ValueView, WrongKindGivesNothing) {
  const auto msg = mes::MessageBuilder().with_additional_argument("n", 5).build();
  const auto n = *msg.additional_argument("n");
  EXPECT_FALSE(n.as_string().has_value());
  EXPECT_FALSE(n.as_bool().has_value());
  EXPECT_FALSE(n.as_bytes().has_value());
  EXPECT_EQ(n.size(), 0U);
  EXPECT_TRUE(n[0].is_null());
  EXPECT_FALSE(n.find("x").has_value());
  EXPECT_EQ(n.key_at(0), "");
  EXPECT_EQ(n.to_json(), "5");
  EXPECT_TRUE(mes::ValueView().is_null());
}

TEST(ValueView, ToValueRoundTripsNesting) {
  const mes::Value value = mes::Value::Map{
      {"list", mes::Value::List{1, 2.5, "three", false, nullptr}},
      {"map", mes::Value::Map{{"inner", mes::Value::Bytes{std::byte{9}, std::byte{0}}}}},
      {"negative", -42},
      {"big", std::int64_t{1} << 60}};
  const auto msg = mes::MessageBuilder().with_additional_argument("v", value).build();
  EXPECT_EQ(msg.additional_argument("v")->to_value(), value);
  EXPECT_EQ(msg.additional_argument("v")->find("negative")->as_int(), -42);
}

TEST(ValueView, ForeignFlexBufferKindsMapOntoValueKinds) {
  // Typed vectors and unsigned ints are what another FlexBuffers writer may produce.
  flexbuffers::Builder flex;
  const auto start = flex.StartMap();
  flex.Key("typed");
  flex.TypedVector([&] {
    flex.Int(1);
    flex.Int(2);
  });
  flex.Key("fixed");
  const int triple[3] = {4, 5, 6};
  flex.FixedTypedVector(triple, 3);
  flex.Key("unsigned");
  flex.UInt(7);
  flex.Key("key");
  flex.Key("as-key");
  flex.EndMap(start);
  flex.Finish();
  const auto root = mes::ValueView(flexbuffers::GetRoot(flex.GetBuffer()));
  EXPECT_EQ(root.find("typed")->type(), mes::ValueType::kList);
  EXPECT_EQ((*root.find("typed"))[1].as_int(), 2);
  EXPECT_EQ(root.find("fixed")->size(), 3U);
  EXPECT_EQ((*root.find("fixed"))[2].as_int(), 6);
  EXPECT_EQ(root.find("unsigned")->as_int(), 7);
  EXPECT_EQ(root.find("key")->as_string(), "as-key");
}
