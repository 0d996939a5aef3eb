#pragma once
// What the librdkafka this process runs can be trusted with: settings that hit a known
// fault of an older version are refused at create() with the reason, rather than let
// through to abort or hang the process later.

#include <string_view>

#include "mlops/orchestration/backend_options.h"
#include "mlops/result.h"

namespace mlops::orchestration::detail::kafka {

/// librdkafka's version integer (0xMMmmrrpp) of the first release that closes a
/// cooperative-sticky consumer before its first assignment without aborting the process
/// (`rd_kafka_sticky_assignor_state_destroy: Assertion 'assignor_state' failed` before it).
inline constexpr int kCooperativeCloseFixedVersion = 0x02030000;  // 2.3.0

/// "2.0.2" for 0x020002ff.
std::string version_text(int version);

/// Whether a partition.assignment.strategy value names the cooperative-sticky assignor.
/// librdkafka requires every assignor of the list to use one protocol, so a consumer with
/// such a list rebalances incrementally (COOPERATIVE), and otherwise EAGER.
bool names_cooperative_assignor(std::string_view strategy);

/// Refuses a consumer's librdkafka `properties` that name the cooperative-sticky assignor
/// when `runtime_version` (rd_kafka_version()) is older than kCooperativeCloseFixedVersion.
/// @return success, or kInvalidArgument saying why and what to use instead.
Result<void> check_consumer_properties(const BackendOptions& properties, int runtime_version);

}  // namespace mlops::orchestration::detail::kafka
