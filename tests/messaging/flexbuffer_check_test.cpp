// detail::check_flexbuffer, the one walk that verifies an additional argument's FlexBuffer:
// it accepts what FlexBuffers writers produce, refuses what readers could not survive, and
// its cost stays within its budget whatever the bytes.
#include "messaging/flexbuffer_check.h"

#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <flatbuffers/flexbuffers.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "support/crafted_flexbuffers.h"

namespace mes = mlops::messaging;
namespace detail = mlops::messaging::detail;
using detail::FlexProblem;

namespace {

FlexProblem check(const std::vector<std::uint8_t>& bytes, detail::FlexCheckStats* stats = nullptr) {
  return detail::check_flexbuffer(bytes.data(), bytes.size(), stats);
}

// Every FlexBuffers kind MessageBuilder writes, nested, plus what other writers may use.
std::vector<std::vector<std::uint8_t>> honest_buffers() {
  std::vector<std::vector<std::uint8_t>> buffers;
  {
    flexbuffers::Builder flex;
    flex.Map([&] {
      flex.Int("int", -5);
      flex.UInt("uint", 1ULL << 40);
      flex.Double("double", 2.5);
      flex.Bool("bool", true);
      flex.Null("null");
      flex.String("string", "text");
      const std::uint8_t blob[] = {1, 2, 3};
      flex.Key("blob");
      flex.Blob(blob, sizeof blob);
      flex.Vector("list", [&] {
        flex.Int(1);
        flex.String("two");
        flex.Map([&] { flex.Double("three", 3.0); });
      });
      flex.TypedVector("typed", [&] {
        flex.Int(1);
        flex.Int(70'000);
      });
      flex.Key("fixed");
      const double fixed[] = {1.0, 2.0, 3.0};
      flex.FixedTypedVector(fixed, 3);
      flex.IndirectInt("indirect", 1LL << 50);
      flex.Key("keys");
      flex.TypedVector([&] {
        flex.Key("x");
        flex.Key("y");
      });
    });
    flex.Finish();
    buffers.push_back(flex.GetBuffer());
  }
  {
    // A list of maps sharing their keys, their strings and their key vectors: sharing a
    // writer does, which must stay within the budget.
    flexbuffers::Builder flex(512, flexbuffers::BUILDER_FLAG_SHARE_ALL);
    flex.Vector([&] {
      for (int i = 0; i < 300; ++i) {
        flex.Map([&] {
          flex.Int("a_rather_long_key_name", i);
          flex.String("another_long_key_name", "the same string every time");
        });
      }
    });
    flex.Finish();
    buffers.push_back(flex.GetBuffer());
  }
  for (const auto scalar : {0, 1, 300, 70'000}) {
    flexbuffers::Builder flex;
    flex.Int(scalar);
    flex.Finish();
    buffers.push_back(flex.GetBuffer());
  }
  return buffers;
}

}  // namespace

TEST(FlexBufferCheck, AcceptsWhatWritersWrite) {
  for (const auto& bytes : honest_buffers()) {
    detail::FlexCheckStats stats;
    EXPECT_EQ(check(bytes, &stats), FlexProblem::kNone) << bytes.size() << " bytes";
    EXPECT_LE(stats.values_visited, detail::flex_value_budget(bytes.size()));
    EXPECT_TRUE(flexbuffers::VerifyBuffer(bytes.data(), bytes.size()));
  }
}

TEST(FlexBufferCheck, WideSharingIsRefusedWithinTheBudget) {
  // 60 ints referenced 120 times: 7,200 values to read from 365 bytes. The stock verifier
  // accepts it (each reference is in bounds); readers would pay 20 values per byte.
  const auto bytes = mlops::testing::wide_dag(60, 120);
  ASSERT_TRUE(flexbuffers::VerifyBuffer(bytes.data(), bytes.size()));
  detail::FlexCheckStats stats;
  EXPECT_EQ(check(bytes, &stats), FlexProblem::kTooManyValues);
  EXPECT_LE(stats.values_visited, detail::flex_value_budget(bytes.size()));
  // The same shape within the budget passes: sharing alone is not refused.
  const auto small = mlops::testing::wide_dag(4, 4);
  EXPECT_EQ(check(small), FlexProblem::kNone);
}

TEST(FlexBufferCheck, DoublingSharingIsRefusedWithinTheBudget) {
  // 2^60 leaves from 306 bytes: without a bound no walk of it would end.
  const auto bytes = mlops::testing::doubling_dag(60);
  detail::FlexCheckStats stats;
  EXPECT_NE(check(bytes, &stats), FlexProblem::kNone);
  EXPECT_LE(stats.values_visited, detail::flex_value_budget(bytes.size()));
  EXPECT_EQ(check(mlops::testing::doubling_dag(2)), FlexProblem::kNone);  // 4 leaves
}

TEST(FlexBufferCheck, CycleIsRefused) {
  detail::FlexCheckStats stats;
  const auto bytes = mlops::testing::self_cycle();
  EXPECT_NE(check(bytes, &stats), FlexProblem::kNone);
  EXPECT_LE(stats.values_visited, detail::flex_value_budget(bytes.size()));
}

TEST(FlexBufferCheck, DeepNestingIsRefused) {
  // 64 levels pass (FlexBuffers' own limit), 65 do not.
  for (const int levels : {64, 65}) {
    flexbuffers::Builder flex;
    std::vector<std::size_t> starts;
    for (int i = 0; i < levels; ++i) starts.push_back(flex.StartVector());
    flex.Int(1);
    for (auto it = starts.rbegin(); it != starts.rend(); ++it) flex.EndVector(*it, false, false);
    flex.Finish();
    EXPECT_EQ(check(flex.GetBuffer()), levels <= 64 ? FlexProblem::kNone : FlexProblem::kTooDeep)
        << levels;
  }
}

TEST(FlexBufferCheck, KeyWithoutNulIsRefused) {
  // A map {"abcd": 0xFF...}: with the key's NUL overwritten and no zero byte after it, a
  // reader's strlen would run off the end. The stock verifier accepts it.
  const auto maps = mlops::testing::maps_with_unterminated_key();
  for (const auto& map : maps) {
    ASSERT_EQ(check(map.intact), FlexProblem::kNone);
    EXPECT_TRUE(flexbuffers::VerifyBuffer(map.damaged.data(), map.damaged.size()));
    EXPECT_EQ(check(map.damaged), FlexProblem::kKeyWithoutNul) << map.damaged.size();
  }
  EXPECT_GT(maps.size(), 0U);
}

TEST(FlexBufferCheck, DeprecatedStringRunningOffTheEndIsRefused) {
  // Readers take the byte before each element as its length: 200 runs off a 9-byte buffer.
  // The stock verifier checks the elements only as keys, and accepts it.
  const auto overrun = mlops::testing::deprecated_string_vector(200);
  ASSERT_TRUE(flexbuffers::VerifyBuffer(overrun.data(), overrun.size()));
  EXPECT_EQ(check(overrun), FlexProblem::kMalformed);
  const auto fits = mlops::testing::deprecated_string_vector(2);
  ASSERT_EQ(check(fits), FlexProblem::kNone);
  const mes::ValueView view(flexbuffers::GetRoot(fits.data(), fits.size()));
  ASSERT_EQ(view.size(), 1U);
  EXPECT_EQ(view[0].as_string(), "ab");
}

TEST(FlexBufferCheck, EveryTruncationAndBitFlipIsCaughtOrReadable) {
  // Whatever the walk accepts, the stock verifier accepts too, and it reads in full (under
  // ASan in CI): the walk is never looser than FlexBuffers' own checks.
  std::mt19937 random(19);
  int accepted = 0;
  int refused = 0;
  for (const auto& original : honest_buffers()) {
    std::vector<std::vector<std::uint8_t>> variants;
    for (std::size_t n = 0; n < original.size(); ++n)
      variants.emplace_back(original.begin(), original.begin() + n);
    for (int i = 0; i < 2000; ++i) {
      auto flipped = original;
      flipped[random() % flipped.size()] ^= static_cast<std::uint8_t>(1U << (random() % 8));
      variants.push_back(std::move(flipped));
    }
    for (const auto& bytes : variants) {
      detail::FlexCheckStats stats;
      if (check(bytes, &stats) == FlexProblem::kNone) {
        ++accepted;
        EXPECT_TRUE(flexbuffers::VerifyBuffer(bytes.data(), bytes.size()));
        const mes::ValueView view(flexbuffers::GetRoot(bytes.data(), bytes.size()));
        EXPECT_FALSE(view.to_json().empty());
      } else {
        ++refused;
      }
      EXPECT_LE(stats.values_visited, detail::flex_value_budget(bytes.size()));
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 100);
}

TEST(FlexBufferCheck, EntriesReadAsTheViewDoes) {
  for (const auto& bytes : honest_buffers()) {
    const mes::ValueView view(flexbuffers::GetRoot(bytes.data(), bytes.size()));
    const auto entries = view.entries();
    ASSERT_EQ(entries.size(), view.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(entries.key(i), view.key_at(i));
      EXPECT_EQ(entries[i].to_json(), view[i].to_json());
    }
    EXPECT_TRUE(entries[entries.size()].is_null());
    EXPECT_EQ(entries.key(entries.size()), "");
  }
  const mes::ValueView scalar;
  EXPECT_EQ(scalar.entries().size(), 0U);
  EXPECT_TRUE(scalar.entries()[0].is_null());
}
