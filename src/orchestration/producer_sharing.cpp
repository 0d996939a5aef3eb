#include "orchestration/producer_sharing.h"

#include <atomic>

namespace mlops::orchestration::detail {
namespace {
std::atomic<bool> g_sharing{true};
}  // namespace

void set_producer_sharing_for_benchmarks(bool on) noexcept { g_sharing.store(on); }

bool producer_sharing() noexcept { return g_sharing.load(std::memory_order_relaxed); }

}  // namespace mlops::orchestration::detail
