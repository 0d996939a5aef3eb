// Steady-state send and receive over inproc allocate nothing once vectors have grown.
// Counted through mlops_alloc_counter's operator new, which is why this is a binary of its own.
#include <gtest/gtest.h>

#include "support/alloc_counter.h"
#include "support/test_support.h"

namespace mlops::orchestration::testing {
namespace {

TEST(InprocAllocations, SteadyStateSendAndReceiveAllocateNothing) {
  // A small topic, so that the warm-up laps its whole ring (slots are allocated on the
  // first lap and reused after).
  const auto orch =
      Orchestration::from_uri("inproc://" + unique_name("alloc") + "?max_messages=1024").value();
  auto pro = Producer::create(orch, "t").value();
  auto con = Consumer::create("t", orch, {.group = "g"}).value();
  std::vector<mes::MLOpsMessage> messages;
  for (int i = 0; i < 8; ++i) messages.push_back(numbered(i));
  std::vector<mes::MLOpsMessage> out;
  out.reserve(64);
  std::uint64_t checksum = 0;
  auto round = [&] {
    for (const auto& m : messages) ASSERT_EQ(pro.send(m), Status::kOk);
    std::size_t got = 0;
    while (got < messages.size()) {
      ASSERT_EQ(con.receive(out, {}, 1s), Status::kOk);
      got += out.size();
      for (const auto& m : out) checksum += m.bytes().size();
    }
  };
  for (int i = 0; i < 200; ++i) round();  // warm up: vectors grow, the ring fills once
  const auto before = mlops::testing::alloc_count();
  for (int i = 0; i < 1000; ++i) round();
  EXPECT_EQ(mlops::testing::alloc_count() - before, 0U);
  EXPECT_GT(checksum, 0u);
}

}  // namespace
}  // namespace mlops::orchestration::testing
