#include "orchestration/redis/redis_admin.h"

#include <algorithm>

#include "orchestration/deadline.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::redis {
Result<void> RedisAdmin::validate_connection(Deadline deadline) {
  auto opened = Connection::open(settings_, deadline);
  if (!opened) return opened.error();
  return {};
}

Result<ReplyPtr> RedisAdmin::command(std::span<const std::string_view> args, Deadline deadline) {
  if (!connection_ || connection_->broken()) {
    connection_.reset();
    auto opened = Connection::open(settings_, deadline);
    if (!opened) return opened.error();
    connection_ = std::move(*opened);
  }
  auto reply = connection_->command(args, deadline);
  if (!reply) {
    return Error{reply.error().code, "redis " + settings_.where() + ": " + std::string(args[0]) +
                                         ": " + reply.error().message};
  }
  return reply;
}

Result<std::vector<std::string>> RedisAdmin::topics() {
  const std::lock_guard lock(mutex_);
  const auto deadline = deadline_after(settings_.timeout);
  std::vector<std::string> names;
  std::string cursor = "0";
  do {
    const std::string_view args[] = {"SCAN", cursor, "COUNT", "1000", "TYPE", "stream"};
    auto reply = command(args, deadline);
    if (!reply) return reply.error();
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_ERROR) {
      return Error{ErrorCode::kUnavailable,
                   "redis " + settings_.where() + ": SCAN: " + quote_text(reply_text(r))};
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_ARRAY) {
      return Error{ErrorCode::kUnavailable, "redis " + settings_.where() + ": SCAN: odd reply"};
    }
    cursor = std::string(reply_text(*r.element[0]));
    const redisReply& keys = *r.element[1];
    for (std::size_t i = 0; i < keys.elements; ++i) {
      if (keys.element[i]->type == REDIS_REPLY_STRING) {
        names.emplace_back(reply_text(*keys.element[i]));
      }
    }
  } while (cursor != "0");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());  // SCAN may repeat
  return names;
}

Result<void> RedisAdmin::create_topic(std::string_view name, const TopicOptions& /*options*/) {
  const std::lock_guard lock(mutex_);
  const auto deadline = deadline_after(settings_.timeout);
  const std::string_view create[] = {"XGROUP", "CREATE", name, kCreateTopicGroup, "$", "MKSTREAM"};
  auto reply = command(create, deadline);
  if (!reply) return reply.error();
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    const auto text = reply_text(**reply);
    if (text.starts_with("WRONGTYPE")) {
      return Error{ErrorCode::kInvalidArgument, "redis " + settings_.where() + ": key " +
                                                    quote_text(name) +
                                                    " exists and is not a stream"};
    }
    if (!text.starts_with("BUSYGROUP")) {
      return Error{ErrorCode::kUnavailable,
                   "redis " + settings_.where() + ": XGROUP CREATE: " + quote_text(text)};
    }
  }
  const std::string_view destroy[] = {"XGROUP", "DESTROY", name, kCreateTopicGroup};
  auto dropped = command(destroy, deadline);
  if (!dropped) return dropped.error();
  return {};
}

}  // namespace mlops::orchestration::detail::redis
