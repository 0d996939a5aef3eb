// libFuzzer target: legacy_json::decode (the original library's JSON, which consumers read
// from any topic) on arbitrary input. Whatever decodes must read back, encode, and decode
// again to the same JSON. Any sanitizer report, crash, hang or trap is a finding.
#include <cstddef>
#include <cstdint>

#include "support/sample_messages.h"
#include "mlops/messaging/legacy_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace legacy = mlops::messaging::legacy_json;
  auto msg = legacy::decode(std::span<const std::uint8_t>(data, size));
  if (!msg) {
    if (msg.error().message.empty()) __builtin_trap();  // Every refusal must say why.
    return 0;
  }
  volatile std::uint64_t sink = mlops::testing::read_everything(*msg);
  (void)sink;
  if (!mlops::messaging::MLOpsMessage::from_bytes(msg->bytes())) __builtin_trap();
  // JSON in means no bytes values: encoding cannot fail, and the round trip is stable.
  auto json = legacy::encode(*msg);
  if (!json) __builtin_trap();
  auto again = legacy::decode(*json);
  if (!again) __builtin_trap();
  auto json_again = legacy::encode(*again);
  if (!json_again || *json_again != *json) __builtin_trap();
  return 0;
}
