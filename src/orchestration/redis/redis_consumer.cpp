#include "orchestration/redis/redis_consumer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <limits>
#include <random>
#include <thread>

#include "mlops/log.h"
#include "orchestration/deadline.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::redis {
namespace {

/// How long past a poll's deadline its XREADGROUP ... BLOCK reply may take to arrive (the
/// server ends the BLOCK at the deadline; this is the trip back).
constexpr std::chrono::milliseconds kReplyGrace{250};
/// Most ids one XACK or XCLAIM names.
constexpr std::size_t kIdsPerCommand = 1000;

std::string unique_member() {
  static std::atomic<std::uint64_t> counter{0};
  std::random_device random;
  return "mlops-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(random());
}

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()); }

/// Removes the members of group ARGV[1] on stream KEYS[1], other than ARGV[2], that have
/// nothing pending and were idle at least ARGV[3] ms: dead ones whose entries were claimed,
/// and live ones that read nothing for that long (XREADGROUP makes them again). One script,
/// so atomic: no member can read an entry between the check and XGROUP DELCONSUMER, which
/// would drop it from the pending list (and its redelivery with it).
constexpr std::string_view kReapScript = R"lua(
local n = 0
for _, e in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #e, 2 do f[e[i]] = e[i + 1] end
  if f['name'] ~= ARGV[2] and f['pending'] == 0 and f['idle'] >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    n = n + 1
  end
end
return n)lua";

bool is_error(const redisReply& reply) { return reply.type == REDIS_REPLY_ERROR; }

}  // namespace

RedisConsumer::RedisConsumer(RedisSettings settings, ConsumerOptions options)
    : settings_(std::move(settings)),
      options_(std::move(options)),
      member_(unique_member()),
      problems_(LogLevel::kError, "redis consumer", settings_.log_interval) {
  own_group_ = options_.group.empty();
  group_ = own_group_ ? std::string(kOwnGroupPrefix) + member_ : options_.group;
}

bool RedisConsumer::connect(Deadline deadline) noexcept {
  if (connection_ && !connection_->broken()) return true;
  if (connection_) lose_connection();
  connection_ = reconnector_.open(settings_, deadline, problems_);
  if (!connection_) return false;
  // A reply lost with the old connection may have left entries pending on this member
  // (held ones too: read again from the history).
  held_.clear();
  read_history_ = true;
  for (auto& topic : topics_) topic->history_cursor = "0-0";
  next_claim_ = Clock::now();
  return true;
}

void RedisConsumer::lose_connection() noexcept {
  if (connection_) problems_.log("redis " + settings_.where() + ": " + connection_->problem());
  connection_.reset();
  reconnector_.lost(settings_);
}

Result<void> RedisConsumer::create_group(const std::string& topic, Deadline deadline) {
  const std::string_view start = options_.offset_reset == OffsetReset::kEarliest ? "0" : "$";
  const std::string_view args[] = {"XGROUP", "CREATE", topic, group_, start, "MKSTREAM"};
  auto reply = connection_->command(args, deadline);
  if (!reply) {
    return Error{ErrorCode::kUnavailable, "redis " + settings_.where() + ": creating group " +
                                              group_ + " on " + topic + ": " +
                                              reply.error().message};
  }
  if (is_error(**reply) && reply_text(**reply).starts_with("WRONGTYPE")) {
    // As Admin::create_topic: the key holds something else than a stream.
    return Error{ErrorCode::kInvalidArgument,
                 "redis " + settings_.where() + ": " + topic +
                     " is not a stream: " + quote_text(reply_text(**reply))};
  }
  if (is_error(**reply) && !reply_text(**reply).starts_with("BUSYGROUP")) {
    return Error{ErrorCode::kUnavailable, "redis " + settings_.where() + ": creating group " +
                                              group_ + " on " + topic + ": " +
                                              quote_text(reply_text(**reply))};
  }
  return {};
}

bool RedisConsumer::recreate_groups(Deadline deadline) noexcept {
  bool all = true;
  try {
    for (const auto& topic : topics_) {
      if (auto created = create_group(topic->name, deadline); !created) {
        problems_.log(created.error().message);
        all = false;
      }
    }
  } catch (...) {
    return false;
  }
  // The group starts over: nothing of this member is pending in it any more.
  read_history_ = false;
  for (auto& topic : topics_) topic->claim_cursor = "0-0";
  return all;
}

Result<void> RedisConsumer::assign(std::span<const std::string> topics) {
  if (forked_away()) {
    return Error{ErrorCode::kUnavailable,
                 "redis consumer inherited across fork(): make a new Consumer in the child"};
  }
  const auto deadline = deadline_after(settings_.timeout);
  if (!connect(deadline)) {
    return Error{ErrorCode::kUnavailable,
                 "redis " + settings_.where() + ": cannot subscribe: the server is unreachable"};
  }
  for (const auto& name : topics) {
    const bool known = std::any_of(topics_.begin(), topics_.end(),
                                   [&](const auto& topic) { return topic->name == name; });
    if (known) continue;
    if (auto created = create_group(name, deadline); !created) return created.error();
  }
  // Topics left hand their uncommitted entries back; the rest stay as they are.
  std::vector<std::unique_ptr<Topic>> kept;
  for (auto& topic : topics_) {
    if (std::find(topics.begin(), topics.end(), topic->name) != topics.end()) {
      kept.push_back(std::move(topic));
    } else {
      release_held(*topic);
      hand_back(*topic, deadline);
      // Deliveries handed out view the name: keep it alive while this consumer lives.
      retired_.push_back(std::move(topic));
    }
  }
  for (const auto& name : topics) {
    const bool known = std::any_of(kept.begin(), kept.end(),
                                   [&](const auto& topic) { return topic->name == name; });
    if (!known) kept.push_back(std::make_unique<Topic>(Topic{name, "0-0", "0-0", {}}));
  }
  topics_ = std::move(kept);
  next_claim_ = Clock::now();
  return {};
}

bool RedisConsumer::forked_away() noexcept {
  if (fork_generation_ == fork_generation()) return false;
  if (!fork_reported_) {
    fork_reported_ = true;
    try {
      log(LogLevel::kError,
          "redis consumer: used in a process forked from the one that made it "
          "(its connection and group are the parent's); make a new Consumer "
          "in the child");
    } catch (...) {  // a failing log hook changes nothing here
    }
  }
  return true;
}

void RedisConsumer::hand_out(std::vector<Delivery>& out, std::size_t max, std::size_t before) {
  while (!held_.empty() && out.size() - before < max) {
    Held& next = held_.front();
    next.topic->handed.push_back(std::move(next.id));
    if (next.delivery) out.push_back(std::move(*next.delivery));
    held_.pop_front();
  }
}

void RedisConsumer::release_held(const Topic& topic) {
  std::deque<Held> kept;
  for (auto& held : held_) {
    if (held.topic == &topic) {
      held.topic->handed.push_back(std::move(held.id));
    } else {
      kept.push_back(std::move(held));
    }
  }
  held_ = std::move(kept);
}

void RedisConsumer::take_entries(Topic& topic, const std::shared_ptr<redisReply>& owner,
                                 const redisReply& entries) noexcept {
  if (entries.type != REDIS_REPLY_ARRAY) return;
  for (std::size_t i = 0; i < entries.elements; ++i) {
    const redisReply& entry = *entries.element[i];
    if (entry.type != REDIS_REPLY_ARRAY || entry.elements < 2 ||
        entry.element[0]->type != REDIS_REPLY_STRING) {
      continue;
    }
    std::string id(reply_text(*entry.element[0]));
    const redisReply& fields = *entry.element[1];
    Delivery delivery;
    delivery.topic = topic.name;
    bool found = false;
    if (fields.type == REDIS_REPLY_ARRAY) {
      // Our entries have one field, "m"; anything else is foreign: handed up empty, so the
      // Consumer counts and logs it as corrupt, and acknowledged at the next commit.
      if (fields.elements == 2 && fields.element[0]->type == REDIS_REPLY_STRING &&
          reply_text(*fields.element[0]) == "m" && fields.element[1]->type == REDIS_REPLY_STRING) {
        const redisReply& value = *fields.element[1];
        delivery.bytes = {reinterpret_cast<const std::uint8_t*>(value.str), value.len};
        delivery.owner = owner;
        found = true;
      }
    } else {
      // Deleted (trimmed) while pending: nothing to hand out, only to acknowledge.
      held_.push_back(Held{&topic, std::move(id), std::nullopt});
      continue;
    }
    if (!found) {
      static const std::uint8_t kNothing = 0;
      delivery.bytes = {&kNothing, 0};
    }
    held_.push_back(Held{&topic, std::move(id), std::move(delivery)});
  }
}

Status RedisConsumer::read_history(std::vector<Delivery>& out, std::size_t max,
                                   Deadline deadline) noexcept {
  const auto before = out.size();
  for (auto& topic : topics_) {
    if (out.size() - before >= max) return Status::kOk;
    const std::string count = std::to_string(max - (out.size() - before));
    const std::string_view args[] = {"XREADGROUP", "GROUP",     group_,
                                     member_,      "COUNT",     count,
                                     "STREAMS",    topic->name, topic->history_cursor};
    auto reply = connection_->command(args, deadline + kReplyGrace);
    if (!reply) return Status::kError;
    if (is_error(**reply)) {
      const auto text = reply_text(**reply);
      problems_.log("reading pending entries of " + topic->name + ": " + quote_text(text));
      if (text.starts_with("NOGROUP") && !recreated_ && recreate_groups(deadline + kReplyGrace)) {
        recreated_ = true;
        return Status::kOk;  // the group is new: nothing of this member pending in it
      }
      return Status::kError;
    }
    std::shared_ptr<redisReply> owner(reply->release(), ReplyDeleter{});
    if (owner->type != REDIS_REPLY_ARRAY || owner->elements == 0) continue;
    const redisReply& stream = *owner->element[0];
    if (stream.type != REDIS_REPLY_ARRAY || stream.elements < 2) continue;
    const redisReply& entries = *stream.element[1];
    if (entries.type == REDIS_REPLY_ARRAY && entries.elements > 0) {
      const redisReply& last = *entries.element[entries.elements - 1];
      if (last.type == REDIS_REPLY_ARRAY && last.elements > 0 &&
          last.element[0]->type == REDIS_REPLY_STRING) {
        topic->history_cursor = std::string(reply_text(*last.element[0]));
      }
      take_entries(*topic, owner, entries);
      hand_out(out, max, before);
    }
  }
  if (out.size() == before) read_history_ = false;
  return Status::kOk;
}

std::chrono::milliseconds RedisConsumer::claim_interval() const noexcept {
  return std::clamp(settings_.claim_idle / 4, std::chrono::milliseconds(10),
                    std::chrono::milliseconds(5000));
}

Status RedisConsumer::claim(std::vector<Delivery>& out, std::size_t max,
                            Deadline deadline) noexcept {
  const auto before = out.size();
  bool pass_done = true;
  const std::string min_idle = ms_text(settings_.claim_idle);
  for (auto& topic : topics_) {
    if (out.size() - before >= max) {
      pass_done = false;
      break;
    }
    const std::string count = std::to_string(max - (out.size() - before));
    const std::string_view args[] = {"XAUTOCLAIM", topic->name,         group_,  member_,
                                     min_idle,     topic->claim_cursor, "COUNT", count};
    auto reply = connection_->command(args, deadline + kReplyGrace);
    if (!reply) return Status::kError;
    if (is_error(**reply)) {
      // The next pass waits its interval whatever happened: no claim before every read.
      next_claim_ = Clock::now() + claim_interval();
      const auto text = reply_text(**reply);
      problems_.log("XAUTOCLAIM on " + topic->name + ": " + quote_text(text));
      if (text.starts_with("NOGROUP") && !recreated_ && recreate_groups(deadline + kReplyGrace)) {
        recreated_ = true;
        return Status::kOk;
      }
      return Status::kError;
    }
    std::shared_ptr<redisReply> owner(reply->release(), ReplyDeleter{});
    if (owner->type != REDIS_REPLY_ARRAY || owner->elements < 2 ||
        owner->element[0]->type != REDIS_REPLY_STRING) {
      continue;
    }
    topic->claim_cursor = std::string(reply_text(*owner->element[0]));
    if (topic->claim_cursor != "0-0") pass_done = false;
    if (topic->claim_cursor == "0-0" && Clock::now() >= next_reap_) reap_members(*topic, deadline);
    take_entries(*topic, owner, *owner->element[1]);
    hand_out(out, max, before);
  }
  if (pass_done) {
    next_claim_ = Clock::now() + claim_interval();
    if (Clock::now() >= next_reap_) next_reap_ = Clock::now() + settings_.claim_idle;
  }
  return Status::kOk;
}

void RedisConsumer::reap_members(const Topic& topic, Deadline deadline) noexcept {
  if (own_group_) return;  // no other members
  try {
    const std::string idle = ms_text(settings_.claim_idle);
    const std::string_view args[] = {"EVAL", kReapScript, "1", topic.name, group_, member_, idle};
    auto reply = connection_->command(args, deadline + kReplyGrace);
    if (reply && is_error(**reply)) {
      problems_.log("removing dead members of " + group_ + " on " + topic.name + ": " +
                    quote_text(reply_text(**reply)));
    }
  } catch (...) {  // out of memory: they are removed at a later pass
  }
}

void RedisConsumer::prune_retired() noexcept {
  // Deliveries of earlier polls view these names no more (Consumer drops its views before
  // it polls again), so a left topic with nothing left to acknowledge can go.
  std::erase_if(retired_, [](const auto& topic) { return topic->handed.empty(); });
}

Status RedisConsumer::read_new(std::vector<Delivery>& out, std::size_t max,
                               Deadline deadline) noexcept {
  const auto before = out.size();
  const auto now = Clock::now();
  const auto block_until = std::min(deadline, next_claim_);
  std::string block_ms;
  if (block_until > now) {
    // BLOCK 0 would mean forever: at least 1 ms.
    block_ms = std::to_string(std::max<std::int64_t>(
        1, std::chrono::ceil<std::chrono::milliseconds>(block_until - now).count()));
  }
  const std::string count = std::to_string(max);
  std::vector<std::string_view> args = {"XREADGROUP", "GROUP", group_, member_, "COUNT", count};
  if (!block_ms.empty()) {
    args.push_back("BLOCK");
    args.push_back(block_ms);
  }
  args.push_back("STREAMS");
  for (const auto& topic : topics_) args.push_back(topic->name);
  for (std::size_t i = 0; i < topics_.size(); ++i) args.push_back(">");
  auto reply = connection_->command(args, std::max(block_until, now) + kReplyGrace);
  if (!reply) return Status::kError;
  if (is_error(**reply)) {
    const auto text = reply_text(**reply);
    problems_.log("XREADGROUP: " + quote_text(text));
    // The stream or group was deleted (or the server lost it): make it again, once a poll.
    if (text.starts_with("NOGROUP") && !recreated_ && recreate_groups(deadline + kReplyGrace)) {
      recreated_ = true;
      return Status::kOk;  // nothing read: poll() reads again
    }
    return Status::kError;
  }
  std::shared_ptr<redisReply> owner(reply->release(), ReplyDeleter{});
  if (owner->type != REDIS_REPLY_ARRAY) return Status::kTimeout;  // nil: nothing in time
  for (std::size_t i = 0; i < owner->elements; ++i) {
    const redisReply& stream = *owner->element[i];
    if (stream.type != REDIS_REPLY_ARRAY || stream.elements < 2) continue;
    const auto name = reply_text(*stream.element[0]);
    for (auto& topic : topics_) {
      if (topic->name == name) take_entries(*topic, owner, *stream.element[1]);
    }
  }
  // COUNT applies to each stream: with several topics, what is past `max` waits in held_.
  hand_out(out, max, before);
  return Status::kOk;
}

Status RedisConsumer::poll(std::vector<Delivery>& out, std::size_t max,
                           Deadline deadline) noexcept {
  if (closed_ || max == 0) return Status::kOk;
  if (forked_away()) return Status::kError;
  prune_retired();
  if (topics_.empty()) return Status::kTimeout;
  try {
    if (!held_.empty()) {
      const auto held_before = out.size();
      hand_out(out, max, held_before);
      if (out.size() > held_before) return Status::kOk;
    }
    // After a refused command (not a lost connection) the next poll waits a backoff first:
    // a caller looping on receive() does not hammer the server, and its timeout holds.
    if (Clock::now() < retry_at_) {
      std::this_thread::sleep_until(std::min(retry_at_, deadline));
      if (retry_at_ > deadline) return Status::kError;
    }
    if (!connect(deadline)) return Status::kError;
    recreated_ = false;
    const auto before = out.size();
    auto failed = [&] {
      if (connection_ && connection_->broken()) {
        lose_connection();
      } else {
        error_backoff_ = std::clamp(error_backoff_ * 2, kFirstBackoff, settings_.reconnect_backoff);
        retry_at_ = Clock::now() + error_backoff_;
      }
      return Status::kError;
    };
    auto succeeded = [&](Status status) {
      error_backoff_ = std::chrono::milliseconds(0);
      return status;
    };
    if (read_history_) {
      if (read_history(out, max, deadline) != Status::kOk) return failed();
      if (out.size() > before) return succeeded(Status::kOk);
    }
    for (;;) {
      if (Clock::now() >= next_claim_) {
        if (claim(out, max, deadline) != Status::kOk) return failed();
        if (out.size() > before) return succeeded(Status::kOk);
      }
      const Status status = read_new(out, max, deadline);
      if (status == Status::kError) return failed();
      if (out.size() > before) return succeeded(Status::kOk);
      if (Clock::now() >= deadline) return succeeded(Status::kTimeout);
    }
  } catch (...) {
    problems_.log("out of memory reading entries");
    return Status::kError;
  }
}

Status RedisConsumer::commit() noexcept {
  if (closed_) return Status::kError;
  if (forked_away()) return Status::kError;
  std::size_t expected = 0;
  for (const auto& topic : topics_) expected += topic->handed.empty() ? 0 : 1;
  for (const auto& topic : retired_) expected += topic->handed.empty() ? 0 : 1;
  if (expected == 0) return Status::kOk;
  const auto deadline = deadline_after(settings_.timeout);
  if (!connect(deadline)) return Status::kError;
  try {
    bool ok = true;
    for (auto& topic : topics_) ok = acknowledge(*topic, deadline) && ok;
    for (auto& topic : retired_) ok = acknowledge(*topic, deadline) && ok;
    if (!ok) {
      if (connection_ && connection_->broken()) lose_connection();
      return Status::kError;
    }
  } catch (...) {
    problems_.log("out of memory acknowledging entries");
    return Status::kError;
  }
  return Status::kOk;
}

bool RedisConsumer::acknowledge(Topic& topic, Deadline deadline) {
  for (std::size_t start = 0; start < topic.handed.size(); start += kIdsPerCommand) {
    const auto end = std::min(topic.handed.size(), start + kIdsPerCommand);
    std::vector<std::string_view> args = {"XACK", topic.name, group_};
    for (auto i = start; i < end; ++i) args.push_back(topic.handed[i]);
    auto reply = connection_->command(args, deadline);
    if (!reply || is_error(**reply)) {
      problems_.log("XACK on " + topic.name + ": " +
                    (reply ? quote_text(reply_text(**reply)) : reply.error().message));
      return false;
    }
  }
  topic.handed.clear();
  return true;
}

Result<RedisConsumer::Topic*> RedisConsumer::seek_topic(std::string_view name, Deadline deadline) {
  if (closed_) return Error{ErrorCode::kUnavailable, "the redis consumer is closed"};
  if (forked_away()) {
    return Error{ErrorCode::kUnavailable,
                 "redis consumer inherited across fork(): make a new Consumer in the child"};
  }
  auto found = std::find_if(topics_.begin(), topics_.end(),
                            [&](const auto& topic) { return topic->name == name; });
  if (found == topics_.end()) {
    return Error{ErrorCode::kInvalidArgument,
                 "not subscribed to topic '" + std::string(name) + "'"};
  }
  if (!connect(deadline)) {
    return Error{ErrorCode::kUnavailable,
                 "redis " + settings_.where() + ": cannot seek: the server is unreachable"};
  }
  return found->get();
}

namespace {

/// The stream id right after `id` ("ms-seq"), for XRANGE to go on past it; empty when `id`
/// is not one (a server that answers nonsense ends the scan).
std::string id_after(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return {};
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  const auto* end = id.data() + id.size();
  if (std::from_chars(id.data(), id.data() + dash, ms).ptr != id.data() + dash ||
      std::from_chars(id.data() + dash + 1, end, seq).ptr != end) {
    return {};
  }
  if (seq != std::numeric_limits<std::uint64_t>::max())
    return std::to_string(ms) + "-" + std::to_string(seq + 1);
  if (ms == std::numeric_limits<std::uint64_t>::max()) return {};
  return std::to_string(ms + 1) + "-0";
}

/// Our entry's payload (field "m"), or empty bytes for a foreign entry.
std::span<const std::uint8_t> entry_payload(const redisReply& fields) noexcept {
  if (fields.type == REDIS_REPLY_ARRAY && fields.elements == 2 &&
      fields.element[0]->type == REDIS_REPLY_STRING && reply_text(*fields.element[0]) == "m" &&
      fields.element[1]->type == REDIS_REPLY_STRING) {
    const redisReply& value = *fields.element[1];
    return {reinterpret_cast<const std::uint8_t*>(value.str), value.len};
  }
  return {};
}

}  // namespace

Result<void> RedisConsumer::set_group_id(Topic& topic, std::string_view id, Deadline deadline) {
  // As a commit: what this member read from the topic is processed (a seek back reads it
  // again from the stream, a seek forward passes it over)...
  release_held(topic);
  if (!acknowledge(topic, deadline)) {
    if (connection_ && connection_->broken()) lose_connection();
    return Error{ErrorCode::kUnavailable, "redis " + settings_.where() + ": cannot seek " +
                                              topic.name + ": acknowledging what was read failed"};
  }
  // ...then the group's last-delivered id: the group reads the entries after it.
  const std::string_view args[] = {"XGROUP", "SETID", topic.name, group_, id};
  auto reply = connection_->command(args, deadline);
  if (!reply || is_error(**reply)) {
    std::string why = reply ? quote_text(reply_text(**reply)) : reply.error().message;
    if (connection_ && connection_->broken()) lose_connection();
    return Error{ErrorCode::kUnavailable,
                 "redis " + settings_.where() + ": XGROUP SETID on " + topic.name + ": " + why};
  }
  topic.claim_cursor = "0-0";
  // Other members' pending entries up to `id` are passed over too, or a claim would hand
  // them out again. Those after it stay pending: XREADGROUP delivers them again (and moves
  // them to the member it delivers them to).
  if (id != "0" && id != "$" && !acknowledge_group_until(topic, id, deadline)) {
    if (connection_ && connection_->broken()) lose_connection();
    return Error{
        ErrorCode::kUnavailable,
        "redis " + settings_.where() + ": the group moved on " + topic.name +
            ", but acknowledging other members' pending entries before the new position failed"};
  }
  return {};
}

bool RedisConsumer::acknowledge_group_until(const Topic& topic, std::string_view last,
                                            Deadline deadline) {
  static const std::string page = std::to_string(kIdsPerCommand);
  std::string from = "-";
  // Each page starts after the last one's end, so the scan ends with the pending list
  // (or at the deadline, which each command keeps).
  while (!from.empty()) {
    const std::string_view args[] = {"XPENDING", topic.name, group_, from, last, page};
    auto reply = connection_->command(args, deadline);
    if (!reply || is_error(**reply)) {
      problems_.log("XPENDING on " + topic.name + ": " +
                    (reply ? quote_text(reply_text(**reply)) : reply.error().message));
      return false;
    }
    const redisReply& entries = **reply;
    if (entries.type != REDIS_REPLY_ARRAY || entries.elements == 0) return true;
    std::vector<std::string_view> ack = {"XACK", topic.name, group_};
    from.clear();
    for (std::size_t i = 0; i < entries.elements; ++i) {
      const redisReply& entry = *entries.element[i];
      if (entry.type != REDIS_REPLY_ARRAY || entry.elements < 1 ||
          entry.element[0]->type != REDIS_REPLY_STRING) {
        continue;
      }
      ack.push_back(reply_text(*entry.element[0]));
      from = id_after(ack.back());
    }
    if (ack.size() > 3) {
      auto acked = connection_->command(ack, deadline);
      if (!acked || is_error(**acked)) {
        problems_.log("XACK on " + topic.name + ": " +
                      (acked ? quote_text(reply_text(**acked)) : acked.error().message));
        return false;
      }
    }
    if (entries.elements < kIdsPerCommand) return true;
  }
  return true;
}

Result<void> RedisConsumer::seek(std::string_view name, bool to_latest) {
  const auto deadline = deadline_after(settings_.timeout);
  auto topic = seek_topic(name, deadline);
  if (!topic) return topic.error();
  // 0 reads the stream from its first entry again. Latest: the newest entry's id, not "$",
  // so that the members' pending entries passed over end at a fixed id (entries added
  // meanwhile are read by the group, not acknowledged unread).
  if (!to_latest) return set_group_id(**topic, "0", deadline);
  const std::string_view args[] = {"XREVRANGE", (*topic)->name, "+", "-", "COUNT", "1"};
  auto reply = connection_->command(args, deadline);
  if (!reply || is_error(**reply)) {
    std::string why = reply ? quote_text(reply_text(**reply)) : reply.error().message;
    if (connection_ && connection_->broken()) lose_connection();
    return Error{ErrorCode::kUnavailable, "redis " + settings_.where() + ": cannot seek " +
                                              (*topic)->name + ": XREVRANGE: " + why +
                                              " (the group did not move)"};
  }
  const redisReply& newest = **reply;
  if (newest.type == REDIS_REPLY_ARRAY && newest.elements == 1 &&
      newest.element[0]->type == REDIS_REPLY_ARRAY && newest.element[0]->elements >= 1 &&
      newest.element[0]->element[0]->type == REDIS_REPLY_STRING) {
    return set_group_id(**topic, std::string(reply_text(*newest.element[0]->element[0])), deadline);
  }
  return set_group_id(**topic, "$", deadline);  // an empty stream: nothing to pass over
}

Result<std::uint64_t> RedisConsumer::seek_to(std::string_view name, const SeekProbe& probe) {
  const auto deadline = deadline_after(settings_.timeout);
  auto found = seek_topic(name, deadline);
  if (!found) return found.error();
  Topic& topic = **found;
  // Stream ids are the server's arrival times, not the messages' stamps, so the entries are
  // read in order (a page at a time) until the probe places one. The group then goes to
  // the last entry passed over ("0": none), which XGROUP SETID takes as its last delivered.
  std::string last_passed = "0";
  std::string from = "-";
  std::uint64_t passed = 0;
  bool placed = false;
  while (!placed && !from.empty()) {
    const std::string_view args[] = {"XRANGE", topic.name, from, "+", "COUNT", kScanPage};
    auto reply = connection_->command(args, deadline);
    if (!reply || is_error(**reply)) {
      std::string why = reply ? quote_text(reply_text(**reply)) : reply.error().message;
      const bool late = !reply && reply.error().code == ErrorCode::kTimeout;
      if (connection_ && connection_->broken()) lose_connection();
      return Error{late ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                   "redis " + settings_.where() + ": cannot seek " + topic.name +
                       ": XRANGE: " + why + " (the group did not move)"};
    }
    const redisReply& entries = **reply;
    if (entries.type != REDIS_REPLY_ARRAY || entries.elements == 0) break;
    from.clear();  // the next page starts after this one's last entry
    for (std::size_t i = 0; i < entries.elements && !placed; ++i) {
      const redisReply& entry = *entries.element[i];
      if (entry.type != REDIS_REPLY_ARRAY || entry.elements < 2 ||
          entry.element[0]->type != REDIS_REPLY_STRING) {
        continue;
      }
      const std::string_view id = reply_text(*entry.element[0]);
      from = id_after(id);
      const SeekPlace place = probe(entry_payload(*entry.element[1]));
      if (place == SeekPlace::kStart) {
        placed = true;
        continue;
      }
      ++passed;
      last_passed = std::string(id);
      placed = place == SeekPlace::kLast;
    }
  }
  if (auto moved = set_group_id(topic, last_passed, deadline); !moved) return moved.error();
  return passed;
}

void RedisConsumer::hand_back(Topic& topic, Deadline deadline) noexcept {
  if (topic.handed.empty() || !connection_ || connection_->broken()) return;
  try {
    const std::string idle = ms_text(settings_.claim_idle);
    for (std::size_t start = 0; start < topic.handed.size(); start += kIdsPerCommand) {
      const auto end = std::min(topic.handed.size(), start + kIdsPerCommand);
      std::vector<std::string_view> args = {"XCLAIM", topic.name, group_, member_, "0"};
      for (auto i = start; i < end; ++i) args.push_back(topic.handed[i]);
      args.insert(args.end(), {"IDLE", idle, "JUSTID"});
      auto reply = connection_->command(args, deadline);
      if (!reply) return;
    }
  } catch (...) {
    return;  // they come back anyway once claim_idle_ms has passed
  }
  topic.handed.clear();
}

void RedisConsumer::forget_member(const Topic& topic, Deadline deadline) noexcept {
  // Only a member with nothing pending: XGROUP DELCONSUMER drops the member's pending
  // entries, which must stay for the others to claim.
  const std::string_view pending[] = {"XPENDING", topic.name, group_, "-", "+", "1", member_};
  auto reply = connection_->command(pending, deadline);
  if (!reply || (*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements != 0) return;
  const std::string_view forget[] = {"XGROUP", "DELCONSUMER", topic.name, group_, member_};
  (void)connection_->command(forget, deadline);
}

void RedisConsumer::close() noexcept {
  if (closed_) return;
  closed_ = true;
  if (fork_generation_ != fork_generation()) {
    // The parent's connection and group: nothing sent from here (a group of its own stays
    // the parent's). Not freed: the parent may have been inside it at fork().
    (void)connection_.release();
    return;
  }
  if (!connection_ || connection_->broken()) return;
  const auto deadline = deadline_after(settings_.timeout);
  for (auto& topic : topics_) {
    if (own_group_) {
      const std::string_view args[] = {"XGROUP", "DESTROY", topic->name, group_};
      if (!connection_->command(args, deadline)) break;
    } else {
      release_held(*topic);
      hand_back(*topic, deadline);
      forget_member(*topic, deadline);
    }
  }
  connection_.reset();
}

}  // namespace mlops::orchestration::detail::redis
