// The values cmake/version.h.in's declarations return, compiled into the library so a
// shared library reports its own version rather than the headers'.
#include "mlops/version.h"

namespace mlops {

std::string_view version() noexcept { return MLOPS_LIBRARY_VERSION; }

int schema_version() noexcept { return MLOPS_SCHEMA_VERSION; }

}  // namespace mlops
