#pragma once
// Redis admin: PING, SCAN TYPE stream, empty streams made with XGROUP CREATE MKSTREAM, and
// lag from XINFO (redis_lag.cpp).

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "orchestration/backend.h"
#include "orchestration/redis/redis_connection.h"

namespace mlops::orchestration::detail::redis {

/// The group create_topic() makes (and drops again) to create an empty stream.
inline constexpr std::string_view kCreateTopicGroup = "mlops-create-topic";

/// One connection, made on first use and again after it breaks; each call bounded by
/// timeout_ms. Thread-safe (calls take turns on the connection).
class RedisAdmin final : public AdminBackend {
 public:
  explicit RedisAdmin(RedisSettings settings) : settings_(std::move(settings)) {}

  /// Connects afresh (AUTH, SELECT, PING). @return kOk, or kUnavailable saying what failed:
  /// refused, no TCP connection, no Redis reply in time, authentication failed, not a Redis
  /// server.
  Result<void> validate_connection(Deadline deadline) override;
  /// Every stream of the database (SCAN ... TYPE stream), sorted.
  Result<std::vector<std::string>> topics() override;
  /// An empty stream named `name` unless it exists; kInvalidArgument if `name` holds
  /// another type.
  Result<void> create_topic(std::string_view name, const TopicOptions& options) override;
  /// Per stream: start/end/messages in entry counts (end: entries ever added, XINFO STREAM's
  /// entries-added; messages: XLEN); per group: lag = entries not yet delivered to it plus
  /// its pending (delivered, unacknowledged) ones, committed = end - lag (nullopt while the
  /// group was never handed an entry). Groups the backend makes for itself (a group-less
  /// consumer's, create_topic()'s) are listed only when named. Each stream within
  /// timeout_ms. @return as Admin::lag(): kNotFound for a named topic that is no stream.
  Result<std::vector<TopicLag>> lag(std::string_view topic,
                                    const std::optional<std::vector<std::string>>& groups) override;

 private:
  /// One command on the connection (reconnecting if broken); the caller holds mutex_.
  Result<ReplyPtr> command(std::span<const std::string_view> args, Deadline deadline);
  /// lag() of one stream; nullopt if it is no stream (gone, or another type).
  Result<std::optional<TopicLag>> stream_lag(const std::string& stream,
                                             const std::optional<std::vector<std::string>>& groups);
  /// Entries of `stream` after id `last_id`, counted by `deadline` (XRANGE in a script) (when
  /// XINFO's lag is nil: entries deleted after a group's position make Redis unable to tell).
  Result<std::uint64_t> count_after(const std::string& stream, std::string last_id,
                                    Deadline deadline);

  RedisSettings settings_;
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace mlops::orchestration::detail::redis
