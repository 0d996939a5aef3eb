#include "orchestration/registry.h"

#include "orchestration/inproc/inproc_backend.h"
#if MLOPS_HAS_KAFKA
#include "orchestration/kafka/kafka_backend.h"
#endif
#include "orchestration/mmap/mmap_backend.h"
#include "orchestration/none/none_backend.h"
#if MLOPS_HAS_REDIS
#include "orchestration/redis/redis_backend.h"
#endif

namespace mlops::orchestration::detail {
namespace {

// Adding a backend: its folder beside this file, and one line here.
constexpr BackendEntry kBackends[] = {
    {"none", "", &none::open},
    {"inproc", "default", &inproc::open},
    {"mmap", "./.mlops", &mmap::open},
#if MLOPS_HAS_KAFKA
    {"kafka", "localhost:9092", &kafka::open},
#endif
#if MLOPS_HAS_REDIS
    {"redis", "localhost:6379", &redis::open},
#endif
};

}  // namespace

std::span<const BackendEntry> backends() noexcept { return kBackends; }

const BackendEntry* find_backend(std::string_view scheme) noexcept {
  for (const auto& entry : kBackends) {
    if (entry.scheme == scheme) return &entry;
  }
  return nullptr;
}

}  // namespace mlops::orchestration::detail
