#pragma once
/// \file The core types bound as pybind11 classes, with casters that refuse instances made
/// without __init__ (checked_caster.h). Included before any other use of these types.

#include "checked_caster.h"
#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/orchestration.h"
#include "mlops/orchestration/orchestration_builder.h"

MLOPS_CHECKED_CASTER(mlops::messaging::MLOpsMessage)
MLOPS_CHECKED_CASTER(mlops::orchestration::Orchestration)
MLOPS_CHECKED_CASTER(mlops::orchestration::OrchestrationBuilder)
