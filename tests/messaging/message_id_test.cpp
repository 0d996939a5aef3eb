#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <algorithm>
#include <vector>

namespace mes = mlops::messaging;

TEST(MessageId, MillionBuildsAreUniqueAndTimeOrdered) {
  mes::MessageBuilder builder;
  std::vector<mes::MessageId> ids;
  ids.reserve(1'000'000);
  for (int i = 0; i < 1'000'000; ++i) {
    ids.push_back(*builder.with_retries(i).build_view().id());
  }
  // Strictly increasing implies unique.
  for (std::size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1], ids[i]) << "at build " << i;
  }
}

TEST(MessageId, CarriesTimeVersionAndVariant) {
  const std::int64_t ns = 1'700'000'000'123'456'789;
  const auto id = mes::MessageId::generate(ns);
  EXPECT_GE(id.unix_ms(), 1'700'000'000'123);  // A later id from this thread may count up.
  EXPECT_EQ((id.hi >> 12) & 0xF, 7U) << "version 7";
  EXPECT_EQ(id.lo >> 62, 2U) << "RFC 9562 variant";
}

TEST(MessageId, TextRoundTrip) {
  const auto id = mes::MessageId::generate(mes::unix_now_ns());
  const auto text = id.to_string();
  ASSERT_EQ(text.size(), 36U);
  EXPECT_EQ(text[8], '-');
  EXPECT_EQ(text[14], '7');
  EXPECT_EQ(mes::MessageId::from_string(text), id);
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  EXPECT_EQ(mes::MessageId::from_string(upper), id);
  EXPECT_FALSE(mes::MessageId::from_string("not-a-uuid").has_value());
  EXPECT_FALSE(mes::MessageId::from_string(text.substr(0, 35) + "g").has_value());
  EXPECT_FALSE(mes::MessageId::from_string("0190b1c2xd3e4-7f00-8a1b-2c3d4e5f6a7b").has_value());
}
