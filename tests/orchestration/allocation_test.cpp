// Steady-state send and receive over inproc allocate nothing once vectors have grown.
// This binary replaces the global operator new, which is why it is a binary of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "test_support.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace mlops::orchestration::testing {
namespace {

TEST(InprocAllocations, SteadyStateSendAndReceiveAllocateNothing) {
  const auto orch = Orchestration::from_uri("inproc://" + unique_name("alloc")).value();
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
  for (int i = 0; i < 100; ++i) round();  // warm up: vectors and the ring grow
  const long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) round();
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_GT(checksum, 0u);
}

}  // namespace
}  // namespace mlops::orchestration::testing
