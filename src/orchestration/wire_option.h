#pragma once
// The `wire` option (flatbuffers | legacy-json): read by Producer, taken out of the
// options before a backend sees them (backends warn about keys they do not know).

#include <optional>

#include "mlops/orchestration/backend_options.h"
#include "mlops/orchestration/producer_options.h"
#include "mlops/result.h"

namespace mlops::orchestration::detail {

/// The option's key.
inline constexpr std::string_view kWireOption = "wire";

/// The `wire` value in `options`, nullopt when absent.
/// @return the format, or kInvalidArgument for a value other than flatbuffers or legacy-json.
Result<std::optional<WireFormat>> read_wire_option(const BackendOptions& options);

/// `options` without the `wire` key.
BackendOptions without_wire_option(BackendOptions options);

}  // namespace mlops::orchestration::detail
