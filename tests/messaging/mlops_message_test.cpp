#include <gtest/gtest.h>
#include <mlops/messaging.h>

#include <cstring>
#include <memory>
#include <vector>

#include "support/sample_messages.h"

namespace mes = mlops::messaging;

TEST(MLOpsMessage, RoundTripThroughBytesKeepsEveryField) {
  for (const auto& original :
       {mlops::testing::make_seed_message(), mlops::testing::make_full_message()}) {
    const std::vector<std::uint8_t> wire(original.bytes().begin(), original.bytes().end());
    auto received = mes::MLOpsMessage::from_bytes(wire);
    ASSERT_TRUE(received.has_value()) << received.error().message;
    EXPECT_NE(received->bytes().data(), wire.data()) << "from_bytes owns a copy";
    EXPECT_TRUE(received->is_owning());
    EXPECT_EQ(mlops::testing::read_everything(*received),
              mlops::testing::read_everything(original));
    EXPECT_EQ(received->id(), original.id());
    EXPECT_EQ(received->timestamp(), original.timestamp());
    EXPECT_EQ(received->additional_arguments(), original.additional_arguments());
    EXPECT_EQ(received->to_json()->size(), original.to_json()->size());
  }
}

TEST(MLOpsMessage, FromBytesTakesCharacters) {
  const auto original = mlops::testing::make_seed_message();
  const std::string payload(reinterpret_cast<const char*>(original.bytes().data()),
                            original.bytes().size());
  auto received = mes::MLOpsMessage::from_bytes(std::string_view(payload));
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->user_message(), "Hello World");
}

TEST(MLOpsMessage, CopiesShareOneBuffer) {
  const auto msg = mlops::testing::make_seed_message();
  const mes::MLOpsMessage copy = msg;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.bytes().data(), msg.bytes().data());
  EXPECT_EQ(copy.bytes().size(), msg.bytes().size());
}

TEST(MLOpsMessage, FromSharedKeepsTheOwnerAliveAndCopiesNothing) {
  const auto built = mlops::testing::make_full_message();
  auto storage = std::make_shared<std::vector<std::uint64_t>>((built.bytes().size() + 7) / 8);
  std::memcpy(storage->data(), built.bytes().data(), built.bytes().size());
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(storage->data()),
                                            built.bytes().size());
  std::weak_ptr<std::vector<std::uint64_t>> watch = storage;
  std::optional<mes::MLOpsMessage> msg;
  {
    auto shared = mes::MLOpsMessage::from_shared(bytes, std::move(storage));
    ASSERT_TRUE(shared.has_value()) << shared.error().message;
    msg = *shared;
  }
  EXPECT_FALSE(watch.expired()) << "the message keeps its owner alive";
  EXPECT_EQ(msg->bytes().data(), bytes.data()) << "zero copy";
  EXPECT_EQ(msg->user_message(), "epoch 12 done");
  msg.reset();
  EXPECT_TRUE(watch.expired()) << "and lets it go with the last copy";
}

TEST(MLOpsMessage, BorrowRefusesMisalignedBytes) {
  const auto built = mlops::testing::make_seed_message();
  std::vector<std::uint64_t> storage(built.bytes().size() / 8 + 2);
  auto* base = reinterpret_cast<std::uint8_t*>(storage.data());
  std::memcpy(base + 1, built.bytes().data(), built.bytes().size());
  auto misaligned = mes::MLOpsMessage::borrow({base + 1, built.bytes().size()});
  ASSERT_FALSE(misaligned.has_value());
  EXPECT_EQ(misaligned.error().code, mlops::ErrorCode::kMisaligned);
  // from_bytes copies into aligned memory, so the same bytes are fine there.
  EXPECT_TRUE(mes::MLOpsMessage::from_bytes({base + 1, built.bytes().size()}).has_value());
  std::memcpy(base, built.bytes().data(), built.bytes().size());
  auto aligned = mes::MLOpsMessage::borrow({base, built.bytes().size()});
  ASSERT_TRUE(aligned.has_value());
  EXPECT_FALSE(aligned->is_owning());
  EXPECT_EQ(aligned->bytes().data(), base);
}

TEST(MLOpsMessage, ErrorCodesHaveNames) {
  EXPECT_EQ(mlops::to_string(mlops::ErrorCode::kCorrupt), "corrupt");
  EXPECT_EQ(mlops::to_string(mlops::ErrorCode::kWrongIdentifier), "wrong identifier");
}
