#pragma once
/// \file Umbrella header for mlops::messaging: build, verify and read MLOpsMessages.
///
///   #include <mlops/messaging.h>
///   namespace mes = mlops::messaging;
///   auto msg = mes::MessageBuilder()
///                  .with_msg_type(mes::MessageType::START)
///                  .with_creator_type("ETL")
///                  .with_user_msg("Hello World")
///                  .build();

#include "mlops/log.h"                        // IWYU pragma: export
#include "mlops/messaging/enums.h"            // IWYU pragma: export
#include "mlops/messaging/legacy_json.h"      // IWYU pragma: export
#include "mlops/messaging/message_builder.h"  // IWYU pragma: export
#include "mlops/messaging/message_id.h"       // IWYU pragma: export
#include "mlops/messaging/mlops_message.h"    // IWYU pragma: export
#include "mlops/messaging/string_list.h"      // IWYU pragma: export
#include "mlops/messaging/trace_context.h"    // IWYU pragma: export
#include "mlops/messaging/value.h"            // IWYU pragma: export
#include "mlops/messaging/value_view.h"       // IWYU pragma: export
#include "mlops/result.h"                     // IWYU pragma: export
#include "mlops/version.h"                    // IWYU pragma: export
