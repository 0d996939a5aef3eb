// RedisAdmin::lag(): per stream XINFO STREAM (length, entries-added), per group XINFO GROUPS
// (pending, last-delivered-id, entries-read, lag). Reads only: XINFO joins no group and
// moves none.
//
// Units are entry counts: end is entries-added (every entry ever added), start is end minus
// the entries held, and a group's committed is end minus its lag, so that, as on kafka, a
// group's lag is end minus committed. A group's lag is what it has not acknowledged: the
// entries not yet delivered to it (XINFO's lag) plus its pending ones (delivered, not
// acknowledged: XINFO's pending, the PEL's size).

#include <algorithm>
#include <optional>

#include "orchestration/deadline.h"
#include "orchestration/redis/redis_admin.h"
#include "orchestration/redis/redis_consumer.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::redis {
namespace {

/// Entries one counting step reads (server-side: a step holds the server this long).
constexpr std::string_view kCountBatch = "1000";
/// One counting step run in the server, so that no payload crosses the network: the number
/// of entries of KEYS[1] from ARGV[1] (exclusive start "(ID") on, at most ARGV[2], and the
/// id of the last one.
constexpr std::string_view kCountScript = R"lua(
local r = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
if #r == 0 then return {0, ''} end
return {#r, r[#r][1]})lua";

/// The value of `key` in a flat key/value reply array (XINFO's), or nullptr.
const redisReply* field(const redisReply& map, std::string_view key) {
  if (map.type != REDIS_REPLY_ARRAY) return nullptr;
  for (std::size_t i = 0; i + 1 < map.elements; i += 2) {
    const redisReply& name = *map.element[i];
    if ((name.type == REDIS_REPLY_STRING || name.type == REDIS_REPLY_STATUS) &&
        reply_text(name) == key) {
      return map.element[i + 1];
    }
  }
  return nullptr;
}

std::optional<std::uint64_t> integer_field(const redisReply& map, std::string_view key) {
  const redisReply* value = field(map, key);
  if (value == nullptr || value->type != REDIS_REPLY_INTEGER || value->integer < 0)
    return std::nullopt;
  return static_cast<std::uint64_t>(value->integer);
}

std::optional<std::string> text_field(const redisReply& map, std::string_view key) {
  const redisReply* value = field(map, key);
  if (value == nullptr ||
      (value->type != REDIS_REPLY_STRING && value->type != REDIS_REPLY_STATUS)) {
    return std::nullopt;
  }
  return std::string(reply_text(*value));
}

/// Groups the backend makes for itself: a group-less consumer's own, and create_topic's
/// transient one. Listed only when named.
bool is_internal_group(std::string_view name) {
  return name.starts_with(kOwnGroupPrefix) || name == kCreateTopicGroup;
}

}  // namespace

Result<std::uint64_t> RedisAdmin::count_after(const std::string& stream, std::string last_id,
                                              Deadline deadline) {
  // XINFO gives no lag when entries were deleted after the group's position (XDEL), so its
  // entries-read cannot say how many follow: count them in the server, a batch at a time,
  // within the deadline. "(" makes the start exclusive (Redis 6.2 and later).
  std::uint64_t count = 0;
  for (;;) {
    const std::string from = "(" + last_id;
    const std::string_view args[] = {"EVAL", kCountScript, "1", stream, from, kCountBatch};
    auto reply = command(args, deadline);
    if (!reply) return reply.error();
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_INTEGER || r.element[1]->type != REDIS_REPLY_STRING ||
        r.element[0]->integer < 0) {
      return Error{
          ErrorCode::kUnavailable,
          "redis " + settings_.where() + ": counting entries of " + stream + ": " +
              (r.type == REDIS_REPLY_ERROR ? quote_text(reply_text(r)) : std::string("odd reply"))};
    }
    if (r.element[0]->integer == 0) return count;
    count += static_cast<std::uint64_t>(r.element[0]->integer);
    last_id = std::string(reply_text(*r.element[1]));
  }
}

Result<std::optional<TopicLag>> RedisAdmin::stream_lag(
    const std::string& stream, const std::optional<std::vector<std::string>>& groups) {
  const auto deadline = deadline_after(settings_.timeout);
  const std::string_view info[] = {"XINFO", "STREAM", stream};
  auto reply = command(info, deadline);
  if (!reply) return reply.error();
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    const auto text = reply_text(**reply);
    // Gone since SCAN, or never there: no such topic (Admin::lag says which when named).
    if (text.starts_with("ERR no such key") || text.starts_with("WRONGTYPE"))
      return std::optional<TopicLag>{};
    return Error{ErrorCode::kUnavailable, "redis " + settings_.where() + ": XINFO STREAM " +
                                              stream + ": " + quote_text(text)};
  }
  const auto length = integer_field(**reply, "length");
  const auto added = integer_field(**reply, "entries-added");
  if (!length) {
    return Error{ErrorCode::kUnavailable,
                 "redis " + settings_.where() + ": XINFO STREAM " + stream + ": odd reply"};
  }
  TopicLag lag;
  lag.topic = stream;
  lag.messages = *length;
  // Before Redis 7 there is no entries-added: count what is held.
  lag.end = std::max(added.value_or(*length), *length);
  lag.start = lag.end - *length;

  std::vector<GroupLag> found;
  if (!groups || !groups->empty()) {
    const std::string_view list[] = {"XINFO", "GROUPS", stream};
    auto listed = command(list, deadline);
    if (!listed) return listed.error();
    const redisReply& r = **listed;
    if (r.type != REDIS_REPLY_ARRAY) {
      return Error{
          ErrorCode::kUnavailable,
          "redis " + settings_.where() + ": XINFO GROUPS " + stream + ": " +
              (r.type == REDIS_REPLY_ERROR ? quote_text(reply_text(r)) : std::string("odd reply"))};
    }
    for (std::size_t i = 0; i < r.elements; ++i) {
      const redisReply& group = *r.element[i];
      auto name = text_field(group, "name");
      auto last_id = text_field(group, "last-delivered-id");
      const auto pending = integer_field(group, "pending");
      if (!name || !last_id || !pending) {
        return Error{ErrorCode::kUnavailable, "redis " + settings_.where() + ": XINFO GROUPS " +
                                                  stream + ": odd group entry"};
      }
      if (groups ? std::find(groups->begin(), groups->end(), *name) == groups->end()
                 : is_internal_group(*name)) {
        continue;
      }
      auto undelivered = integer_field(group, "lag");  // nil: Redis cannot tell (see count_after)
      if (!undelivered) {
        auto counted = count_after(stream, *last_id, deadline);
        if (!counted) return counted.error();
        undelivered = *counted;
      }
      GroupLag entry;
      entry.group = std::move(*name);
      // Pending entries deleted since (XDEL, XTRIM, MAXLEN) can never be delivered again, and
      // XINFO still counts them as pending: the lag is at most what the stream holds (which
      // also keeps committed >= 0).
      entry.lag = std::min(*undelivered + *pending, lag.messages);
      // A group that was never handed anything has no position of its own yet.
      if (*last_id != "0-0") entry.committed = lag.end - entry.lag;
      found.push_back(std::move(entry));
    }
  }
  // A group named but absent on this stream has read nothing of it, as on kafka.
  for (const auto& name : groups.value_or(std::vector<std::string>{})) {
    const bool seen =
        std::any_of(found.begin(), found.end(), [&](const GroupLag& g) { return g.group == name; });
    if (!seen) found.push_back(GroupLag{name, std::nullopt, lag.messages});
  }
  std::sort(found.begin(), found.end(),
            [](const GroupLag& a, const GroupLag& b) { return a.group < b.group; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const GroupLag& a, const GroupLag& b) { return a.group == b.group; }),
              found.end());
  lag.groups = std::move(found);
  return std::optional<TopicLag>(std::move(lag));
}

Result<std::vector<TopicLag>> RedisAdmin::lag(
    std::string_view topic, const std::optional<std::vector<std::string>>& groups) {
  std::vector<std::string> names;
  if (topic.empty()) {
    auto listed = topics();
    if (!listed) return listed.error();
    names = std::move(*listed);
  } else {
    names.emplace_back(topic);
  }
  const std::lock_guard lock(mutex_);
  std::vector<TopicLag> result;
  for (const auto& name : names) {
    auto one = stream_lag(name, groups);
    if (!one) return one.error();
    if (*one) {
      result.push_back(std::move(**one));
    } else if (!topic.empty()) {
      return Error{ErrorCode::kNotFound, "redis " + settings_.where() + " has no stream " +
                                             quote_text(topic) +
                                             " (no such key, or a key of another type)"};
    }
  }
  return result;
}

}  // namespace mlops::orchestration::detail::redis
