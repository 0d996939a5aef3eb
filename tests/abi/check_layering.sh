#!/usr/bin/env bash
# Outside src/messaging/, the library's own code (orchestration, the mlops tool, the Python
# binding) includes from messaging's internals only the headers its declared target
# (mlops::messaging_private, src/CMakeLists.txt) lists; tests may look anywhere.
#   tests/abi/check_layering.sh SOURCE_ROOT ALLOWED_HEADER...   (e.g. messaging/owned_buffer.h)
set -euo pipefail

root=$1
shift
[ $# -gt 0 ] || { echo "check_layering: no allowed headers given"; exit 2; }
allowed=$(printf '%s\n' "$@")
status=0
checked=0
while IFS= read -r file; do
  checked=$((checked + 1))
  while IFS= read -r header; do
    if ! grep -qxF "$header" <<<"$allowed"; then
      echo "check_layering: ${file#"$root"/} includes \"$header\", which mlops::messaging_private does not declare"
      status=1
    fi
  done < <(sed -nE 's@^[[:space:]]*#[[:space:]]*include[[:space:]]*"(messaging/[^"]+)".*@\1@p' "$file")
done < <(find "$root/src/orchestration" "$root/tools" "$root/python" -type f \
           \( -name '*.h' -o -name '*.cpp' \) 2>/dev/null)
[ "$checked" -gt 0 ] || { echo "check_layering: no sources found under $root"; exit 2; }
if [ "$status" -eq 0 ]; then
  echo "check_layering: $checked files, messaging's internals reached only through: $*"
fi
exit "$status"
