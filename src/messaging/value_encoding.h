#pragma once
// Writes a Value into a FlexBuffers builder (shared by MessageBuilder and the JSON code).

#include <flatbuffers/flexbuffers.h>

#include "mlops/messaging/value.h"

namespace mlops::messaging::detail {

/// Appends `value` to `flex`. Throws std::invalid_argument for a map key containing NUL
/// (FlexBuffers keys are C strings).
void encode_value(flexbuffers::Builder& flex, const Value& value);

}  // namespace mlops::messaging::detail
