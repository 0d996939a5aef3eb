#pragma once
/// \file W3C trace context (`traceparent`) checks and ids, for MessageBuilder's trace fields.

#include <string>
#include <string_view>

#include "mlops/export.h"
#include "mlops/result.h"

namespace mlops::messaging {

/// Length of a version-00 traceparent: "00-" 32 hex "-" 16 hex "-" 2 hex.
inline constexpr std::size_t kTraceparentLength = 55;

/// Checks `text` against the W3C Trace Context `traceparent` grammar: lower-case hex fields
/// version-traceid-parentid-flags; version "ff" is refused, the trace id and the parent
/// (span) id must not be all zeros; version 00 is exactly 55 characters, a later version
/// may carry more lower-case hex and '-' after a '-'.
/// @return success, or kInvalidArgument saying which part is wrong.
MLOPS_EXPORT Result<void> check_traceparent(std::string_view text);

/// A fresh version-00 traceparent: a random trace id and span id, flags "01" (sampled).
MLOPS_EXPORT std::string new_traceparent();

/// A version-00 traceparent in the trace of `parent` (a valid traceparent): its trace id
/// and flags, a new random span id.
MLOPS_EXPORT std::string child_traceparent(std::string_view parent);

}  // namespace mlops::messaging
