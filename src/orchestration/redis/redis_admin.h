#pragma once
// Redis admin: PING, SCAN TYPE stream, and empty streams made with XGROUP CREATE MKSTREAM.

#include <memory>
#include <mutex>

#include "orchestration/backend.h"
#include "orchestration/redis/redis_connection.h"

namespace mlops::orchestration::detail::redis {

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

 private:
  Result<ReplyPtr> command(std::span<const std::string_view> args, Deadline deadline);

  RedisSettings settings_;
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace mlops::orchestration::detail::redis
