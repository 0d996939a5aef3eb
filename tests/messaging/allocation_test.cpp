// Steady-state allocation counts, through the counting operator new of mlops_alloc_counter
// (which is why this is a binary of its own).
#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <cstdint>
#include <span>
#include <string>
#include <thread>

#include "support/alloc_counter.h"

namespace mes = mlops::messaging;

namespace {

template <typename F>
long allocations_in(F&& body) {
  const auto before = mlops::testing::alloc_count();
  body();
  return static_cast<long>(mlops::testing::alloc_count() - before);
}

const std::byte kBlob[] = {std::byte{1}, std::byte{2}, std::byte{3}};

std::uint64_t build_and_read(mes::MessageBuilder& builder, int i) {
  builder.reset();  // the documented zero-allocation path: a builder keeps its fields
  const auto msg = builder.with_msg_type(mes::MessageType::START)
                       .with_creator_type("ETL")
                       .with_creator("ETL")
                       .with_user_msg("Hello World")
                       .with_next_task("Train")
                       .with_topic({"Cool-New-Topic", "Sick-Topic"})
                       .with_output("/data/out.parquet")
                       .with_stage(mes::Stage::ETL)
                       .with_retries(i)
                       .with_additional_argument("epoch", i)
                       .with_additional_argument("lr", 0.01)
                       .with_additional_argument("name", "resnet")
                       .with_additional_argument("flag", true)
                       .with_additional_argument("blob", std::span<const std::byte>(kBlob))
                       .build_view();
  std::uint64_t sum = msg.bytes().size() + msg.user_message()->size() + msg.topic()[1].size();
  sum += static_cast<std::uint64_t>(*msg.additional_argument("epoch")->as_int());
  for (const auto task : msg.next_task()) sum += task.size();
  auto verified = mes::MLOpsMessage::borrow(msg.bytes());
  sum += verified ? verified->bytes().size() : 0;
  return sum;
}

}  // namespace

TEST(Allocations, ReusedBuilderBuildViewVerifyAndReadAllocateNothing) {
  mes::MessageBuilder builder;
  for (int i = 0; i < 100; ++i) (void)build_and_read(builder, i);  // Warm up: buffers grow.
  std::uint64_t sum = 0;
  const long count = allocations_in([&] {
    for (int i = 0; i < 10'000; ++i) sum += build_and_read(builder, i);
  });
  EXPECT_EQ(count, 0) << "allocations in 10,000 steady-state messages";
  EXPECT_GT(sum, 0U);
}

TEST(Allocations, BuildCostsExactlyOneAllocation) {
  mes::MessageBuilder builder;
  (void)builder.with_user_msg("warm").with_topic("t").build();  // The same shape, once.
  const long count = allocations_in([&] {
    const auto msg = builder.with_user_msg("Hello World").with_topic("t").build();
    EXPECT_EQ(msg.user_message(), "Hello World");
  });
  EXPECT_EQ(count, 1) << "the message's own shared buffer";
}

// The README's way: a new builder per message. The builder's working memory comes from the
// State the previous builder on this thread left behind, so the message's own bytes are the
// one allocation.
mes::MLOpsMessage build_with_fresh_builder(int i) {
  return mes::MessageBuilder()
      .with_msg_type(mes::MessageType::START)
      .with_creator_type("ETL")
      .with_creator("ETL")
      .with_user_msg("Hello World")
      .with_next_task("Train")
      .with_topic({"Cool-New-Topic", "Sick-Topic"})
      .with_output("/data/out.parquet")
      .with_retries(i)
      .with_additional_argument("epoch", i)
      .with_additional_argument("name", "resnet")
      .with_additional_argument("blob", std::span<const std::byte>(kBlob))
      .build();
}

TEST(Allocations, FreshBuilderAndBuildCostAtMostOneAllocation) {
  (void)build_with_fresh_builder(0);  // This thread's first builder makes the spare State.
  constexpr int kMessages = 1000;
  std::int64_t sum = 0;
  const long count = allocations_in([&] {
    for (int i = 0; i < kMessages; ++i) {
      const auto msg = build_with_fresh_builder(i);
      sum += *msg.additional_argument("epoch")->as_int() + msg.retries();
    }
  });
  EXPECT_LE(count, kMessages) << "allocations for " << kMessages << " fresh builders + build()";
  EXPECT_EQ(sum, std::int64_t{kMessages} * (kMessages - 1));
}

TEST(Allocations, AHugeMessagesBuilderIsNotKeptAsTheSpare) {
  (void)build_with_fresh_builder(0);
  const std::string huge(std::size_t{1} << 20, 'x');
  (void)mes::MessageBuilder().with_user_msg(huge).build();  // Grows past the spare's limit.
  // The next builder finds no spare (the huge one was freed), so it allocates its State.
  const long count = allocations_in([] { (void)build_with_fresh_builder(1); });
  EXPECT_GT(count, 1);
  // ... which then serves as the spare again.
  EXPECT_EQ(allocations_in([] { (void)build_with_fresh_builder(2); }), 1);
}

// from_json keeps its parser per thread: the embedded schema, hundreds of allocations to
// parse, is parsed once per thread, not once per message. (The parser's own allocations per
// message remain: FlatBuffers' JSON parser allocates for its tokens.)
TEST(Allocations, FromJsonParsesTheSchemaOncePerThread) {
  const std::string text = build_with_fresh_builder(3).to_json().value();
  long first = 0;
  long steady = 0;
  std::thread fresh_thread([&] {  // a thread that has not parsed any JSON yet
    first = allocations_in([&] { ASSERT_TRUE(mes::MessageBuilder::from_json(text)); });
    (void)mes::MessageBuilder::from_json(text);
    steady = allocations_in([&] { ASSERT_TRUE(mes::MessageBuilder::from_json(text)); });
  });
  fresh_thread.join();
  EXPECT_GT(first, 0);
  EXPECT_LT(steady * 10, first) << "first call " << first << ", later calls " << steady;
}

TEST(Allocations, CopyingAMessageAllocatesNothing) {
  const auto msg = mes::MessageBuilder().with_user_msg("shared").build();
  const long count = allocations_in([&] {
    for (int i = 0; i < 1000; ++i) {
      const mes::MLOpsMessage copy = msg;
      ASSERT_EQ(copy.bytes().data(), msg.bytes().data());
    }
  });
  EXPECT_EQ(count, 0);
}
