#!/usr/bin/env bash
# The README's first command: install what is needed, build (Release) and run the main job.
# It builds in build/demo (the `demo` preset: examples only), so it never changes the
# settings of build/release, which scripts/test.sh builds with every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
source scripts/use-ccache.sh
cmake --preset demo >/dev/null
cmake --build --preset demo
build/demo/examples/example_pipeline
