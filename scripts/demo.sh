#!/usr/bin/env bash
# The README's first command: install what is needed, build (Release) and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release -DMLOPS_BUILD_TESTS=OFF -DMLOPS_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release

# The main job. When the demo pipeline exists it is the job; until then, the examples.
if [ -x build/release/examples/example_pipeline ]; then
  build/release/examples/example_pipeline
else
  build/release/examples/example_create_message
  build/release/examples/example_read_message
fi
