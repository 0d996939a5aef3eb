#pragma once
// The redis backend's settings: where the server is (redis://[USER:PASSWORD@]HOST:PORT[/DB])
// and the options read from the URI query and each role's backend options.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mlops/orchestration/backend_options.h"
#include "mlops/result.h"

namespace mlops::orchestration::detail::redis {

/// Everything a redis connection and its role need. Copied into each producer, consumer
/// and admin (role options over the endpoint's).
struct RedisSettings {
  std::string host = "localhost";
  int port = 6379;
  /// SELECT'ed after connecting (the URI's /DB).
  int db = 0;
  /// AUTH user and password (`user`, `password`, or the URI's USER:PASSWORD@). Never logged.
  std::string user;
  std::string password;
  /// Bound on connecting, on admin requests, and on waits without a caller deadline.
  std::chrono::milliseconds timeout{5000};
  /// A group's entries pending this long on a member are claimed by another (XAUTOCLAIM).
  std::chrono::milliseconds claim_idle{30'000};
  /// XADD ... MAXLEN ~ N when not 0 (trimming drops entries, read or not: off by default).
  std::uint64_t maxlen = 0;
  /// A producer reads replies every pipeline_messages sends; with linger > 0 it writes its
  /// queue only once this many commands, bytes or milliseconds are queued (0: every send).
  std::size_t pipeline_messages = 64;
  std::size_t pipeline_bytes = 1U << 20;
  std::chrono::milliseconds linger{0};
  /// Most messages written but not yet acknowledged: send() back-pressures beyond it.
  std::size_t max_in_flight = 10'000;
  /// flush() then waits for this many replicas (WAIT) for at most wait_timeout.
  int wait_replicas = 0;
  std::chrono::milliseconds wait_timeout{1000};
  /// A larger message is refused with kTooLarge (Redis' proto-max-bulk-len is 512 MiB).
  std::size_t max_message_bytes = 512U << 20;
  /// Longest pause between reconnect attempts (the backoff starts at 50 ms and doubles).
  std::chrono::milliseconds reconnect_backoff{2000};
  /// After a burst of problem log lines, at most one per interval.
  std::chrono::milliseconds log_interval{10'000};

  /// "HOST:PORT/DB" for messages (never the password).
  [[nodiscard]] std::string where() const;
};

/// Reads `connection` ("[USER:PASSWORD@]HOST[:PORT][/DB]"). @return kInvalidArgument if malformed.
Result<RedisSettings> parse_connection(std::string_view connection);

/// Reads `options` over `base`. Unknown keys are logged once each and ignored (code written
/// for another backend still runs); malformed or out-of-range values are kInvalidArgument.
Result<RedisSettings> read_settings(const BackendOptions& options, RedisSettings base);

}  // namespace mlops::orchestration::detail::redis
