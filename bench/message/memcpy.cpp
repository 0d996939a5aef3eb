// copy: memcpy of the wire bytes, the physical floor every codec is set against.
#include "message/codecs.h"

#include <cstring>
#include <vector>

namespace mlops::bench::message {

void memcpy_copy(benchmark::State& state, const Fixture& f) {
  const auto* data = f.bytes.data();
  const auto size = f.bytes.size;
  std::vector<std::uint64_t> destination((size + 7) / 8);
  auto* out = destination.data();
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    std::memcpy(out, data, size);
    keep(out);
    benchmark::ClobberMemory();
  }
  counters.finish(size, size);
}

}  // namespace mlops::bench::message
