#include "orchestration/failure_handling.h"

#include <algorithm>

#include "mlops/log.h"
#include "mlops/messaging/message_id.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail {
namespace {

// How often receive() looks for new copies in the retry topics: the most a due retry can
// be late by, and the only extra wake-up an idle consumer has (no busy loop).
constexpr std::chrono::milliseconds kRetryReadInterval{100};
// The most retries held in memory; beyond it the retry topics wait (copies come late,
// never early or lost).
constexpr std::size_t kMaxHeld = 10'000;
constexpr std::size_t kMaxReadBatch = 256;
constexpr std::uintptr_t kMessageAlignment = 8;
// The longest delay a retry may have: a year. Longer ones (and due times that far off in a
// copy from elsewhere) are cut to it, which keeps the time arithmetic from overflowing.
constexpr std::chrono::nanoseconds kMaxDelay = std::chrono::hours(24 * 366);

bool later(const auto& a, const auto& b) noexcept { return a.due > b.due; }

void log_quietly(LogLevel level, const std::string& text) noexcept {
  try {
    log(level, text);
  } catch (...) {  // A failing log hook must not stop the consumer.
  }
}

}  // namespace

FailureHandling::FailureHandling(std::shared_ptr<Backend> backend, const ConsumerOptions& options)
    : backend_(backend),
      group_(options.group),
      max_retries_(options.max_retries),
      corrupt_to_dlq_(options.dead_letter_corrupt),
      limits_(options.verify_limits),
      producer_(std::move(backend)) {}

FailureHandling::~FailureHandling() { close(); }

Result<void> FailureHandling::assign(std::span<const std::string> topics) {
  subscriptions_.assign(topics.begin(), topics.end());
  if (group_.empty() || max_retries_ <= 0) return {};  // retries kept in memory, or none
  std::vector<std::string> retry_topics;
  for (const auto& topic : topics) {
    auto name = suffixed_topic(topic, kRetrySuffix);
    if (!name.empty()) retry_topics.push_back(std::move(name));
  }
  if (retry_reader_ == nullptr) {
    if (retry_topics.empty()) return {};
    const auto retry_group = suffixed_topic(group_, kRetrySuffix);
    if (retry_group.empty()) {
      return Error{ErrorCode::kInvalidArgument,
                   "the group " + quote_text(group_) + " is too long for its retry group " +
                       "(<group>.retry); shorten it or set ConsumerOptions::max_retries = 0"};
    }
    ConsumerOptions options;
    options.group = retry_group;
    options.offset_reset = OffsetReset::kEarliest;  // copies sent before this group existed
    options.auto_commit = false;
    auto made = backend_->make_consumer(options);
    if (!made) return made.error();
    retry_reader_ = std::move(*made);
  }
  if (auto assigned = retry_reader_->assign(retry_topics); !assigned) return assigned.error();
  next_read_ = Clock::now();
  return {};
}

void FailureHandling::hold(messaging::MLOpsMessage message, std::string topic,
                           std::int64_t due_unix_ns) {
  const auto now = Clock::now();
  const auto wait = std::chrono::nanoseconds(
      std::clamp<std::int64_t>(due_unix_ns - messaging::unix_now_ns(), 0, kMaxDelay.count()));
  held_.push_back({now + std::chrono::duration_cast<Clock::duration>(wait), std::move(message),
                   std::move(topic)});
  std::push_heap(held_.begin(), held_.end(), later<Held, Held>);
}

void FailureHandling::read_retry_topics(Clock::time_point now) noexcept {
  next_read_ = now + kRetryReadInterval;
  if (held_.size() >= kMaxHeld) return;
  scratch_.clear();
  const std::size_t room = std::min(kMaxHeld - held_.size(), kMaxReadBatch);
  (void)retry_reader_->poll(scratch_, room, now);  // no wait: the main poll waits
  if (!scratch_.empty()) retry_uncommitted_ = true;
  for (auto& delivery : scratch_) {
    try {
      std::optional<messaging::MLOpsMessage> message;
      if (delivery.message) {
        message = std::move(*delivery.message);
      } else {
        auto verified =
            reinterpret_cast<std::uintptr_t>(delivery.bytes.data()) % kMessageAlignment == 0
                ? messaging::MLOpsMessage::from_shared(delivery.bytes, delivery.owner, limits_)
                : messaging::MLOpsMessage::from_bytes(delivery.bytes, limits_);
        if (!verified) {
          log_quietly(LogLevel::kWarning, "consumer skipped a corrupt payload on retry topic " +
                                              quote_text(delivery.topic) + ": " +
                                              verified.error().message);
          continue;
        }
        message = std::move(*verified);
      }
      // The retry topic holds every group's copies: the others' count as processed here.
      const auto group = message->additional_argument(kRetryGroup);
      const auto topic = message->additional_argument(kRetryTopic);
      const auto due = message->additional_argument(kRetryDue);
      if (!group || group->as_string() != std::string_view(group_) || !topic || !due) continue;
      const auto topic_name = topic->as_string();
      const auto due_ns = due->as_int();
      if (!topic_name || !due_ns) continue;
      hold(message->is_owning() ? std::move(*message) : message->owned(), std::string(*topic_name),
           *due_ns);
    } catch (...) {  // Out of memory: the copy stays uncommitted and comes again.
      log_quietly(LogLevel::kError, "consumer: out of memory holding a retry");
    }
  }
  scratch_.clear();
}

void FailureHandling::take_due(std::vector<messaging::MLOpsMessage>& out,
                               const MessageFilter& filter, std::size_t max,
                               Clock::time_point now) {
  if (retry_reader_ == nullptr && held_.empty()) return;
  if (retry_reader_ != nullptr && now >= next_read_) read_retry_topics(now);
  while (!held_.empty() && out.size() < max && held_.front().due <= now) {
    std::pop_heap(held_.begin(), held_.end(), later<Held, Held>);
    Held item = std::move(held_.back());
    held_.pop_back();
    if (!filter(item.message)) continue;
    batch_topics_.push_back(std::move(item.topic));
    note(item.message, batch_topics_.back());
    out.push_back(std::move(item.message));
  }
}

Deadline FailureHandling::cap(Deadline deadline) const noexcept {
  if (retry_reader_ != nullptr) deadline = std::min(deadline, next_read_);
  if (!held_.empty()) deadline = std::min(deadline, held_.front().due);
  return deadline;
}

std::string FailureHandling::topic_of(const messaging::MLOpsMessage& message) const {
  const auto* data = message.bytes().data();
  for (const auto& delivered : batch_) {
    if (delivered.data == data) return std::string(delivered.topic);
  }
  if (const auto topic = message.additional_argument(kRetryTopic)) {
    if (const auto name = topic->as_string()) return std::string(*name);
  }
  if (subscriptions_.size() == 1) return subscriptions_.front();
  const auto topics = message.topic();
  for (const auto name : topics) {
    if (std::find(subscriptions_.begin(), subscriptions_.end(), name) != subscriptions_.end()) {
      return std::string(name);
    }
  }
  return {};
}

Status FailureHandling::dead_letter(const messaging::MLOpsMessage& message,
                                    std::string_view reason) noexcept {
  try {
    const auto topic = topic_of(message);
    if (topic.empty()) return Status::kNoTopic;
    const auto dlq = suffixed_topic(topic, kDlqSuffix);
    if (dlq.empty()) return Status::kInvalidTopic;
    const Status sent = producer_.send(dlq, make_dead_letter(message, topic, reason));
    if (sent == Status::kOk) dead_lettered_.fetch_add(1, std::memory_order_relaxed);
    return sent;
  } catch (...) {
    log_quietly(LogLevel::kError, "consumer: out of memory making a dead letter");
    return Status::kError;
  }
}

Status FailureHandling::retry(const messaging::MLOpsMessage& message,
                              std::chrono::milliseconds delay, std::string_view reason) noexcept {
  if (max_retries_ <= 0 || message.retries() >= max_retries_) return dead_letter(message, reason);
  try {
    const auto topic = topic_of(message);
    if (topic.empty()) return Status::kNoTopic;
    const auto wait = std::clamp<std::chrono::milliseconds::rep>(
        delay.count(), 0, std::chrono::duration_cast<std::chrono::milliseconds>(kMaxDelay).count());
    const auto due =
        messaging::unix_now_ns() +
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::milliseconds(wait))
            .count();
    auto copy = make_retry_copy(message, topic, group_, reason, due);
    if (group_.empty()) {  // a group of this consumer alone: it ends with it, so memory will do
      hold(std::move(copy), topic, due);
      retried_.fetch_add(1, std::memory_order_relaxed);
      return Status::kOk;
    }
    const auto retry_topic = suffixed_topic(topic, kRetrySuffix);
    if (retry_topic.empty()) return Status::kInvalidTopic;
    const Status sent = producer_.send(retry_topic, copy);
    if (sent == Status::kOk) retried_.fetch_add(1, std::memory_order_relaxed);
    return sent;
  } catch (...) {
    log_quietly(LogLevel::kError, "consumer: out of memory making a retry copy");
    return Status::kError;
  }
}

bool FailureHandling::dead_letter_corrupt(std::string_view topic,
                                          std::span<const std::uint8_t> bytes) noexcept {
  // A dead-letter topic's own corrupt payloads stay where they are (no .dlq.dlq chains).
  if (!corrupt_to_dlq_ || topic.ends_with(kDlqSuffix)) return false;
  try {
    const auto dlq = suffixed_topic(topic, kDlqSuffix);
    if (dlq.empty()) return false;
    const Status sent = producer_.send_raw(dlq, bytes);
    if (sent != Status::kOk) {
      log_quietly(LogLevel::kError, "consumer: a corrupt payload of topic " + quote_text(topic) +
                                        " could not go to " + dlq + ": " +
                                        std::string(to_string(sent)));
      return false;
    }
    dead_lettered_.fetch_add(1, std::memory_order_relaxed);
    return true;
  } catch (...) {
    return false;
  }
}

Status FailureHandling::commit() noexcept {
  // Held copies are not handed out yet: committing now would mark them processed.
  if (retry_reader_ == nullptr || !retry_uncommitted_ || !held_.empty()) return Status::kOk;
  const Status status = retry_reader_->commit();
  if (status == Status::kOk) retry_uncommitted_ = false;
  return status;
}

void FailureHandling::close() noexcept {
  if (retry_reader_ != nullptr) {
    retry_reader_->close();  // held copies go back to the group
    retry_reader_.reset();
  }
  held_.clear();
  batch_.clear();
  producer_.close();
}

FailureCounts FailureHandling::counts() const noexcept {
  return {retried_.load(std::memory_order_relaxed), dead_lettered_.load(std::memory_order_relaxed)};
}

}  // namespace mlops::orchestration::detail
