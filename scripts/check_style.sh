#!/usr/bin/env bash
# Style check of the C++ lines a change touches: clang-format (.clang-format) and, where
# build/release/compile_commands.json exists, clang-tidy (.clang-tidy). Only the lines that
# differ from BASE are judged, so old code is not held against a change (the tree gets its
# tree-wide formatting in a commit of its own).
#   scripts/check_style.sh [BASE]
# BASE: a revision; default $MLOPS_STYLE_BASE, else the merge base with origin/main or main
# (when HEAD is not on it), else HEAD~1. MLOPS_STYLE_TIDY=0 skips clang-tidy (about half a
# minute per changed .cpp file).
# Exits 1 naming the files and the command that fixes or shows them.
set -euo pipefail
cd "$(dirname "$0")/.."

base="${1:-${MLOPS_STYLE_BASE:-}}"
if [ -z "$base" ]; then
  for main in origin/main main; do
    # On main itself the merge base is HEAD: fall through to HEAD~1 (the last merge).
    if git rev-parse --verify -q "$main" >/dev/null &&
       [ "$(git merge-base HEAD "$main")" != "$(git rev-parse HEAD)" ]; then
      base=$(git merge-base HEAD "$main")
      break
    fi
  done
  if [ -n "$base" ]; then
    :
  elif git rev-parse --verify -q HEAD~1 >/dev/null; then
    base=HEAD~1
  else
    echo "check_style: no base revision (no origin/main, no HEAD~1); nothing to compare"
    exit 0
  fi
fi
git rev-parse --verify -q "$base^{commit}" >/dev/null ||
  { echo "check_style: '$base' is not a revision"; exit 2; }

format=$(command -v clang-format-diff-14 || command -v clang-format-diff || true)
if [ -z "$format" ] || ! command -v clang-format >/dev/null; then
  echo "check_style: clang-format is not installed (Debian: apt-get install clang-format)"
  exit 1
fi

# C++ files changed since BASE (committed or not), without deleted ones or generated code.
mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" -- \
                       '*.cpp' '*.h' '*.cc' '*.hpp' ':!build/**' ':!**/generated/**')
if [ "${#files[@]}" -eq 0 ]; then
  echo "check_style: no C++ file changed since $(git rev-parse --short "$base")"
  exit 0
fi
short_base=$(git rev-parse --short "$base")
failed=0

# clang-format, on the changed lines only. (Python: Debian's, not a pyenv one.)
format_diff=$(git diff -U0 --no-color "$base" -- "${files[@]}" |
              /usr/bin/python3 "$format" -p1 -regex '.*\.(cpp|h|cc|hpp)$' || true)
if [ -n "$format_diff" ]; then
  mapfile -t misformatted < <(sed -n 's|^+++ \([^[:space:]]*\).*|\1|p' <<<"$format_diff" | sort -u)
  echo "check_style: clang-format would change lines this change touched in:"
  printf '  %s\n' "${misformatted[@]}"
  echo "Fix them with:  git clang-format $short_base -- ${misformatted[*]}"
  echo "(or see the changes: git diff -U0 $short_base -- FILES | clang-format-diff-14 -p1)"
  failed=1
fi

# clang-tidy, on the changed lines of the changed files that the Release build compiles.
database=build/release/compile_commands.json
if [ "${MLOPS_STYLE_TIDY:-1}" != 0 ] && [ -f "$database" ] && command -v clang-tidy >/dev/null; then
  # --line-filter: each changed file with the line ranges this change added or modified.
  line_filter=$(git diff -U0 --no-color "$base" -- "${files[@]}" | awk '
    /^\+\+\+ / { file = substr($2, 3); next }
    /^@@ / {
      split($3, added, ","); start = substr(added[1], 2); count = (added[2] == "" ? 1 : added[2])
      if (count > 0) ranges[file] = ranges[file] (ranges[file] == "" ? "" : ",") "[" start "," start + count - 1 "]"
    }
    END {
      out = ""
      for (f in ranges) out = out (out == "" ? "" : ",") "{\"name\":\"" f "\",\"lines\":[" ranges[f] "]}"
      print "[" out "]"
    }')
  sources=()
  for file in "${files[@]}"; do
    case "$file" in *.cpp|*.cc) grep -q "\"file\": \"$PWD/$file\"" "$database" && sources+=("$file") ;; esac
  done
  if [ "${#sources[@]}" -gt 0 ] && [ "$line_filter" != "[]" ]; then
    echo "check_style: clang-tidy on ${#sources[@]} changed file(s)"
    tidy_log=$(mktemp)
    # g++'s warning flags clang does not know are not findings.
    printf '%s\0' "${sources[@]}" |
      xargs -0 -n 1 -P 2 clang-tidy -p build/release --quiet \
        --extra-arg=-Wno-unknown-warning-option \
        --header-filter="^$PWD/(include|src|tests|bench|tools|examples|python)/" \
        --line-filter="$line_filter" >"$tidy_log" 2>/dev/null || true
    if grep -qE '^/[^ ]*:[0-9]+:[0-9]+: (warning|error): ' "$tidy_log"; then
      grep -E -A2 '^/[^ ]*:[0-9]+:[0-9]+: (warning|error): ' "$tidy_log"
      echo "check_style: clang-tidy found the above in lines this change touched, in:"
      grep -oE '^/[^ :]+' "$tidy_log" | grep -E '\.(cpp|h|cc|hpp)$' | sort -u | sed "s|^$PWD/|  |"
      echo "See them with:  clang-tidy -p build/release --extra-arg=-Wno-unknown-warning-option FILE.cpp"
      failed=1
    fi
    rm -f "$tidy_log"
  fi
elif [ "${MLOPS_STYLE_TIDY:-1}" != 0 ]; then
  echo "check_style: clang-tidy skipped (needs clang-tidy and $database: cmake --preset release)"
fi

if [ "$failed" -eq 0 ]; then
  echo "check_style: ${#files[@]} changed C++ file(s) since $short_base pass clang-format${sources:+ and clang-tidy}"
fi
exit "$failed"
