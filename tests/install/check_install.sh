#!/usr/bin/env bash
# Builds and runs tests/install/main.cpp against an installed mlops, two ways: with CMake
# (find_package) and with pkg-config alone (no CMake), and checks the consumer linked the
# kind of library the install holds.
#   tests/install/check_install.sh PREFIX static|shared WORKDIR
# PREFIX: what was installed into (cmake --install --prefix, or an unpacked .deb's usr/).
# WORKDIR: emptied, then holds the two consumers' builds.
set -euo pipefail
cd "$(dirname "$0")/../.."

prefix=$(realpath "$1")
kind=$2
work=$3
case "$kind" in static | shared) ;; *) echo "check_install: kind must be static or shared, not '$kind'"; exit 2 ;; esac
rm -rf "$work"
mkdir -p "$work"
work=$(realpath "$work")

pc=$(find "$prefix" -name mlops-messaging.pc -path '*/pkgconfig/*' | head -1)
[ -n "$pc" ] || { echo "check_install: no mlops-messaging.pc under $prefix"; exit 1; }
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
module=mlops-messaging
defines=()
if [ -f "$pcdir/mlops-orchestration.pc" ]; then
  module=mlops-orchestration
  defines=(-DMLOPS_HAS_ORCHESTRATION=1)
fi

# Which mlops libraries a binary needs at run time: none when static, both .so when shared.
check_linkage() {
  local binary=$1 needed
  needed=$(readelf -d "$binary" | grep -o 'libmlops_[a-z]*\.so[.0-9]*' | sort | tr '\n' ' ' || true)
  if [ "$kind" = static ] && [ -n "$needed" ]; then
    echo "check_install: $binary links $needed, expected the static libraries"; exit 1
  fi
  if [ "$kind" = shared ]; then
    for lib in libmlops_messaging libmlops_orchestration; do
      if [ "$lib" = libmlops_orchestration ] && [ "$module" != mlops-orchestration ]; then continue; fi
      grep -q "$lib.so" <<<"$needed" || { echo "check_install: $binary does not need $lib.so"; exit 1; }
    done
    # ... and loads them from the install, not from elsewhere.
    local loaded
    loaded=$(LD_LIBRARY_PATH="$libdir" ldd "$binary" | grep libmlops_ || true)
    if grep -v -q "=> $libdir/" <<<"$loaded"; then
      echo "check_install: $binary loads mlops from outside $libdir:"; echo "$loaded"; exit 1
    fi
  fi
}

echo "--- CMake consumer (find_package) against $kind $prefix"
cmake -S tests/install -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
check_linkage "$work/cmake/install_test"
LD_LIBRARY_PATH="$libdir" "$work/cmake/install_test"

echo "--- pkg-config consumer ($module) against $kind $prefix"
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs "$module")
echo "pkg-config --cflags --libs $module: $flags"
# shellcheck disable=SC2086  # the flags are words
"${CXX:-c++}" -std=c++20 -Wall -Wextra -Werror "${defines[@]}" tests/install/main.cpp \
  -o "$work/pkg_config_test" $flags
check_linkage "$work/pkg_config_test"
LD_LIBRARY_PATH="$libdir" "$work/pkg_config_test"
