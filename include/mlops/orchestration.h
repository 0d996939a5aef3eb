#pragma once
/// \file Umbrella header for mlops::orchestration: move MLOpsMessages between pipeline stages.
///
///   #include <mlops/orchestration.h>
///   namespace orc = mlops::orchestration;
///   auto orch = orc::Orchestration::from_uri("inproc://demo").value();
///   auto producer = orc::Producer::create(orch, "etl-done").value();
///   auto consumer = orc::Consumer::create("etl-done", orch, {.group = "train"}).value();
///   (void)producer.send(msg);
///   for (const auto& m : consumer.receive()) use(m);

#include "mlops/messaging.h"                            // IWYU pragma: export
#include "mlops/orchestration/admin.h"                  // IWYU pragma: export
#include "mlops/orchestration/backend_options.h"        // IWYU pragma: export
#include "mlops/orchestration/consumer.h"               // IWYU pragma: export
#include "mlops/orchestration/consumer_options.h"       // IWYU pragma: export
#include "mlops/orchestration/message_filter.h"         // IWYU pragma: export
#include "mlops/orchestration/orchestration.h"          // IWYU pragma: export
#include "mlops/orchestration/orchestration_builder.h"  // IWYU pragma: export
#include "mlops/orchestration/producer.h"               // IWYU pragma: export
#include "mlops/orchestration/producer_options.h"       // IWYU pragma: export
#include "mlops/orchestration/status.h"                 // IWYU pragma: export
#include "mlops/orchestration/topic_list.h"             // IWYU pragma: export
#include "mlops/orchestration/topic_options.h"          // IWYU pragma: export
