// Steady-state allocation counts, through the counting operator new of mlops_alloc_counter
// (which is why this is a binary of its own).
#include <gtest/gtest.h>
#include <mlops/messaging.h>

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
