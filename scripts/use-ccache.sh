# Sourced by scripts/demo.sh and scripts/test.sh: every build through ccache (installed by
# scripts/install-deps.sh), so that an object compiled with the same flags before costs a
# look-up: the Release build after the demo build's (the libraries, the examples), the shared
# build's tool and Python module after the Release build's. CCACHE_BASEDIR turns absolute
# paths into relative ones, so one build directory's objects match another's. A build
# directory configured before keeps the launcher it was configured with.
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
  CCACHE_BASEDIR="$(pwd -P)"
  export CCACHE_BASEDIR
fi
