#!/usr/bin/env bash
# The shared libraries export the public API and nothing of src/: no symbol of an internal
# namespace (detail, a backend's) in their dynamic symbol tables, and the API's entry points
# present. Standard-library template instances (weak, default visibility in libstdc++'s
# headers) are not ours and are ignored.
#   tests/abi/check_exports.sh LIBMLOPS_MESSAGING.so [LIBMLOPS_ORCHESTRATION.so]
set -euo pipefail

status=0
exports=$(nm -D --defined-only -C "$@" | sed -E 's/^[0-9a-f]+ [A-Za-z] //' | grep -E '^(mlops::|typeinfo for mlops::|vtable for mlops::)' || true)
internal=$(grep -E 'mlops::(messaging|orchestration)::(detail|legacy_json::detail|inproc|mmap|kafka|redis|none)::' <<<"$exports" || true)
if [ -n "$internal" ]; then
  echo "check_exports: internal symbols exported:"
  echo "$internal"
  status=1
fi
expect=('mlops::version()' 'mlops::schema_version()' 'mlops::messaging::MessageBuilder::build()'
        'mlops::messaging::MLOpsMessage::from_bytes(')
if [ $# -gt 1 ]; then
  expect+=('mlops::orchestration::Producer::create(' 'mlops::orchestration::Consumer::create('
           'mlops::orchestration::OrchestrationBuilder::build() const')
fi
for symbol in "${expect[@]}"; do
  grep -qF "$symbol" <<<"$exports" || { echo "check_exports: $symbol is not exported"; status=1; }
done
if [ "$status" -eq 0 ]; then
  echo "check_exports: $(wc -l <<<"$exports") mlops symbols exported, none internal"
fi
exit "$status"
