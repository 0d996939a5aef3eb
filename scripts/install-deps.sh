#!/usr/bin/env bash
# Installs the Debian 12 packages mlops builds, tests and benchmarks with.
# Idempotent: does nothing when everything is there. Needs root (or sudo).
set -euo pipefail

packages=(
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config ccache
  libgtest-dev libgmock-dev libbenchmark-dev
  flatbuffers-compiler libflatbuffers-dev python3-flatbuffers
  libprotobuf-dev protobuf-compiler nlohmann-json3-dev
  librdkafka-dev libhiredis-dev redis-server
  python3 python3-dev python3-pytest pybind11-dev python3-setuptools python3-wheel python3-venv
  libcli11-dev python3-matplotlib
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
