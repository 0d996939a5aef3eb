#pragma once
/// \file MLOpsMessage.__eq__: two messages are equal when every field reads the same.

#include "mlops/messaging/mlops_message.h"

namespace mlops::python {

/// True when `a` and `b` have the same fields: type, topic, creator, creator type, stage,
/// next task, user message, retries, output, recipient (each list field also in whether it
/// was given as a list), every additional argument (a NaN equals a NaN), key, id and timestamp.
/// Their bytes may differ: from_json(to_json_text(m)) lays the same fields out differently.
bool same_fields(const messaging::MLOpsMessage& a, const messaging::MLOpsMessage& b) noexcept;

}  // namespace mlops::python
