#include "orchestration/redis/redis_producer.h"

#include <algorithm>
#include <array>

#include "mlops/log.h"
#include "orchestration/deadline.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::redis {
namespace {}  // namespace

RedisProducer::RedisProducer(RedisSettings settings, ProducerOptions options)
    : settings_(std::move(settings)),
      options_(std::move(options)),
      maxlen_(std::to_string(settings_.maxlen)),
      problems_(LogLevel::kError, "redis producer", settings_.log_interval) {}

std::string_view RedisProducer::intern(std::string_view topic) {
  auto found = topics_.find(topic);
  if (found == topics_.end()) found = topics_.emplace(topic).first;
  return *found;
}

bool RedisProducer::forked_away() noexcept {
  if (fork_generation_ == fork_generation()) return false;
  if (!fork_reported_.exchange(true)) {
    try {
      log(LogLevel::kError,
          "redis producer: used in a process forked from the one that made it "
          "(its connection is the parent's); make a new Producer in the child");
    } catch (...) {  // a failing log hook changes nothing here
    }
  }
  return true;
}

void RedisProducer::report(const Pending& pending, Status status) noexcept {
  if (!options_.on_delivery || !pending.message) return;
  options_.on_delivery(DeliveryReport{pending.topic, *pending.message, status});
}

bool RedisProducer::connect(Deadline deadline) noexcept {
  if (connection_ && !connection_->broken()) return true;
  if (connection_) lose_connection();
  connection_ = reconnector_.open(settings_, deadline, problems_);
  return connection_ != nullptr;
}

void RedisProducer::lose_connection() noexcept {
  if (!pending_.empty()) {
    problems_.log(connection_->problem() + "; " + std::to_string(pending_.size()) +
                  " message(s) without a reply: delivery unknown (not resent)");
  } else {
    problems_.log(connection_->problem());
  }
  failed_since_flush_ += pending_.size();
  // Moved out first: a report's callback may send again.
  auto lost = std::move(pending_);
  pending_.clear();
  unwritten_messages_ = 0;
  unwritten_bytes_ = 0;
  connection_.reset();
  reconnector_.lost(settings_);
  for (const auto& pending : lost) report(pending, Status::kDeliveryUnknown);
}

void RedisProducer::collect(std::size_t in_flight, Deadline deadline) noexcept {
  while (connection_ && pending_.size() > in_flight) {
    Status status = Status::kOk;
    auto reply = connection_->read(deadline, status);
    if (!reply) {
      if (status != Status::kTimeout) lose_connection();
      return;
    }
    Pending done = std::move(pending_.front());
    pending_.pop_front();
    if (done.ticket != 0) {
      if (outcomes_.size() >= kMaxOutcomes) outcomes_.pop_front();
      outcomes_.emplace_back(done.ticket, reply->type == REDIS_REPLY_STRING);
    }
    if (reply->type == REDIS_REPLY_STRING) {
      report(done, Status::kOk);
    } else {
      ++failed_since_flush_;
      const std::string_view text =
          reply->type == REDIS_REPLY_ERROR ? reply_text(*reply) : "an unexpected reply";
      // WRONGTYPE names no key: say which, and that it is not a stream.
      const std::string cause =
          text.starts_with("WRONGTYPE")
              ? "key '" + std::string(done.topic) + "' holds another type, not a stream: "
              : std::string();
      problems_.log("XADD to " + std::string(done.topic) + " refused: " + cause + quote_text(text));
      report(done, Status::kError);
    }
  }
}

Status RedisProducer::queue(std::string_view topic, std::span<const std::uint8_t> bytes,
                            const messaging::MLOpsMessage* message, std::uint64_t ticket) noexcept {
  if (closed_) return Status::kClosed;
  if (bytes.size() > settings_.max_message_bytes) return Status::kTooLarge;
  const bool block = options_.back_pressure == BackPressure::kBlock;
  // Connecting is bounded by send_timeout under either policy (kReturn is about room).
  if ((!connection_ || connection_->broken()) && !connect(deadline_after(options_.send_timeout))) {
    return Status::kError;
  }
  if (pending_.size() >= settings_.max_in_flight) {
    const auto send_deadline = deadline_after(options_.send_timeout);
    collect(settings_.max_in_flight - 1, Clock::now());
    if (pending_.size() >= settings_.max_in_flight) {
      if (!block) return Status::kBackPressured;
      collect(settings_.max_in_flight - 1, send_deadline);
      if (!connection_) return Status::kError;
      if (pending_.size() >= settings_.max_in_flight) return Status::kTimeout;
    }
  }
  // Bytes the socket did not take yet count as room too: beyond pipeline_bytes when
  // lingering, else beyond none, wait for the socket (as a blocking client would; a growing
  // write buffer would also be moved in memory at every partial write).
  const std::size_t unwritten_room = settings_.linger.count() > 0 ? settings_.pipeline_bytes : 0;
  if (connection_->unwritten() > unwritten_room) {
    const bool drained = connection_->write(Clock::time_point{}) == Status::kOk ||
                         connection_->unwritten() <= unwritten_room;
    if (!drained) {
      if (!block) return Status::kBackPressured;
      const Status written = connection_->write(deadline_after(options_.send_timeout));
      if (written == Status::kError) {
        lose_connection();
        return Status::kError;
      }
      if (written == Status::kTimeout) return Status::kTimeout;
    }
  }
  try {
    if (topic != last_topic_) last_topic_ = intern(topic);
    const std::string_view name = last_topic_;
    const std::string_view payload(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    bool queued = false;
    if (settings_.maxlen != 0) {
      const std::array<std::string_view, 8> args = {"XADD",  name, "MAXLEN", "~",
                                                    maxlen_, "*",  "m",      payload};
      queued = connection_->append(args);
    } else {
      const std::array<std::string_view, 5> args = {"XADD", name, "*", "m", payload};
      queued = connection_->append(args);
    }
    if (!queued) {
      lose_connection();
      return Status::kError;
    }
    pending_.push_back(Pending{name,
                               message != nullptr && options_.on_delivery
                                   ? std::optional<messaging::MLOpsMessage>(*message)
                                   : std::nullopt,
                               ticket});
  } catch (...) {
    problems_.log("out of memory queueing a message");
    return Status::kError;
  }
  sent_since_wait_ = true;
  // The clock is read only when lingering: by default every send writes.
  const bool linger = settings_.linger.count() > 0;
  const auto now = linger ? Clock::now() : Clock::time_point{};
  if (unwritten_messages_ == 0) oldest_unwritten_ = now;
  ++unwritten_messages_;
  unwritten_bytes_ += bytes.size();
  if (!linger || unwritten_messages_ >= settings_.pipeline_messages ||
      unwritten_bytes_ >= settings_.pipeline_bytes || now - oldest_unwritten_ >= settings_.linger) {
    unwritten_messages_ = 0;
    unwritten_bytes_ = 0;
    // Written whole unless the socket stays full past send_timeout (as a blocking client
    // writes): a write buffer left partly written costs a memmove and a poll() per send.
    // The message is queued either way: what is left goes out with the next call.
    const Status written =
        connection_->write(block ? deadline_after(options_.send_timeout) : Clock::time_point{});
    if (written == Status::kError) {
      // Queued and maybe partly written: taken, as any send without flush. Its delivery
      // report says kDeliveryUnknown and the next flush() kError (send()'s documented
      // statuses hold no kDeliveryUnknown without flush).
      lose_connection();
      return Status::kOk;
    }
  }
  // Replies are read once per pipeline_messages sends, whatever is in by then.
  if (++since_collect_ >= settings_.pipeline_messages) {
    since_collect_ = 0;
    collect(0, Clock::time_point{});  // a deadline passed: only what is in
  }
  return Status::kOk;
}

Status RedisProducer::send(std::string_view topic,
                           const messaging::MLOpsMessage& message) noexcept {
  if (forked_away()) return Status::kError;
  const std::lock_guard lock(mutex_);
  return queue(topic, message.bytes(), &message);
}

Status RedisProducer::send_raw(std::string_view topic,
                               std::span<const std::uint8_t> bytes) noexcept {
  if (forked_away()) return Status::kError;
  const std::lock_guard lock(mutex_);
  return queue(topic, bytes, nullptr);
}

Status RedisProducer::send_tracked(std::string_view topic, const messaging::MLOpsMessage& message,
                                   std::uint64_t& ticket) noexcept {
  ticket = 0;
  if (forked_away()) return Status::kError;
  const std::lock_guard lock(mutex_);
  const std::uint64_t number = last_ticket_ + 1;
  const Status status = queue(topic, message.bytes(), &message, number);
  if (status == Status::kOk) ticket = last_ticket_ = number;
  return status;
}

Status RedisProducer::confirm(std::span<const std::uint64_t> tickets, Deadline deadline) noexcept {
  const std::lock_guard lock(mutex_);
  const Status flushed = flush(deadline);
  if (tickets.empty()) return flushed == Status::kOk ? Status::kOk : Status::kDeliveryUnknown;
  Status result = Status::kOk;
  for (const std::uint64_t ticket : tickets) {
    const auto found = std::find_if(outcomes_.begin(), outcomes_.end(),
                                    [&](const auto& outcome) { return outcome.first == ticket; });
    Status status = Status::kDeliveryUnknown;
    if (found != outcomes_.end()) {
      // Stored, but a failed flush may be WAIT's: then not confirmed as asked.
      status = !found->second                                           ? Status::kError
               : flushed == Status::kOk || settings_.wait_replicas == 0 ? Status::kOk
                                                                        : Status::kDeliveryUnknown;
      outcomes_.erase(found);
    } else if (flushed == Status::kOk) {
      status = Status::kOk;
    }
    if (result == Status::kOk) result = status;
  }
  return result;
}

Status RedisProducer::flush(Deadline deadline) noexcept {
  if (forked_away()) return Status::kError;
  const std::lock_guard lock(mutex_);
  if (closed_) return Status::kOk;
  if (connection_) {
    unwritten_messages_ = 0;
    unwritten_bytes_ = 0;
    if (!pending_.empty() && connection_->write(deadline) == Status::kError) lose_connection();
    collect(0, deadline);
    if (connection_ && !pending_.empty()) return Status::kTimeout;
  }
  if (settings_.wait_replicas > 0 && sent_since_wait_ && failed_since_flush_ == 0) {
    if (!connect(deadline)) return Status::kError;
    const std::string replicas = std::to_string(settings_.wait_replicas);
    const std::string wait_ms = std::to_string(settings_.wait_timeout.count());
    const std::array<std::string_view, 3> args = {"WAIT", replicas, wait_ms};
    auto reply = connection_->command(
        args, std::min(deadline, Clock::now() + settings_.wait_timeout + settings_.timeout));
    if (!reply) {
      if (reply.error().code == ErrorCode::kTimeout) return Status::kTimeout;
      lose_connection();
      return Status::kError;
    }
    if ((*reply)->type != REDIS_REPLY_INTEGER || (*reply)->integer < settings_.wait_replicas) {
      problems_.log("WAIT: fewer than " + replicas + " replica(s) acknowledged in " + wait_ms +
                    " ms");
      return Status::kError;
    }
    sent_since_wait_ = false;
  }
  if (failed_since_flush_ > 0) {
    failed_since_flush_ = 0;
    return Status::kError;
  }
  return Status::kOk;
}

void RedisProducer::close() noexcept {
  if (fork_generation_ != fork_generation()) {
    // The parent's socket: closed here without a byte sent (the parent keeps its own).
    // The lock is not taken: a thread of the parent may have held it at fork().
    closed_ = true;
    // Not freed: a parent thread may have been inside it at fork(), so its state may be
    // half-changed; the child's copy of the descriptor goes with the process.
    (void)connection_.release();
    return;
  }
  const std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  if (connection_ && !pending_.empty()) {
    connection_->break_with("closed with replies outstanding");
    lose_connection();
  }
  connection_.reset();
}

}  // namespace mlops::orchestration::detail::redis
