// The group timings every member of kafka_churn_test uses, thread or process alike.
// They must match: the mock cluster times a rebalance by the session timeout of the member
// that joined last, and a member with a longer one (the default 45 s) would hold a
// rebalance past the others' JoinGroup timeout (max.poll.interval.ms + 3 s), whose retry
// trips an assertion in librdkafka 2.0's mock group coordinator.
#pragma once

#include <mlops/orchestration.h>

namespace mlops::orchestration::testing {

/// Short enough for many rebalances in a minute: a killed member is noticed after 3 s.
inline BackendOptions churn_group_settings() {
  return {{"session.timeout.ms", "3000"},
          {"heartbeat.interval.ms", "200"},
          {"max.poll.interval.ms", "20000"},
          {"assign_wait_ms", "0"}};
}

}  // namespace mlops::orchestration::testing
