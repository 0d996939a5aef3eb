// libFuzzer target: from_bytes on arbitrary input, then every field of whatever verifies.
// Any sanitizer report, crash or hang is a finding.
#include <cstddef>
#include <cstdint>

#include "support/sample_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto msg = mlops::messaging::MLOpsMessage::from_bytes({data, size});
  if (msg) {
    volatile std::uint64_t sink = mlops::testing::read_everything(*msg);
    (void)sink;
    // A verified message must also survive being copied into a new one.
    (void)mlops::testing::read_everything(
        mlops::messaging::MessageBuilder::from_message(*msg).build());
  } else if (msg.error().message.empty()) {
    __builtin_trap();  // Every refusal must say why.
  }
  return 0;
}
