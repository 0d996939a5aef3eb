#include "orchestration/mmap/mmap_consumer.h"

#include <algorithm>
#include <ctime>
#include <thread>

#include "mlops/log.h"
#include "orchestration/mmap/futex.h"
#include "orchestration/mmap/process_registry.h"

namespace mlops::orchestration::detail::mmap {
namespace {
// A reader stopped at a record still being written re-checks this often: a writer's death
// wakes nobody.
constexpr std::chrono::milliseconds kPendingRecheck{1};
// A poll with no time left still waits this long for a group's lock.
constexpr std::chrono::milliseconds kMinLockWait{5};
// commit() has no deadline of its own: it waits this long for a group's lock at most (held
// for microseconds; only a holder stopped inside makes it give up).
constexpr std::chrono::seconds kCommitPatience{5};

std::int64_t monotonic_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}
}  // namespace

MmapConsumer::MmapConsumer(std::shared_ptr<Queue> queue, QueueSettings settings,
                           ConsumerOptions options)
    : queue_(std::move(queue)),
      settings_(settings),
      options_(std::move(options)),
      owner_pid_(current_pid()) {}

bool MmapConsumer::forked_away() noexcept {
  if (owner_pid_ == current_pid()) return false;
  if (!fork_reported_) {
    fork_reported_ = true;
    log(LogLevel::kError,
        "mmap consumer: used in a process forked from the one that made it; "
        "make a new Consumer in the child (the group stays the parent's)");
  }
  return true;
}

Result<MmapConsumer::Subscription> MmapConsumer::subscribe(const std::string& topic) {
  auto log = queue_->topic(topic);
  if (!log) return log.error();
  if (options_.group.empty()) {
    const auto start =
        options_.offset_reset == OffsetReset::kEarliest ? (*log)->earliest() : (*log)->latest();
    return Subscription{topic, LogReader(*log, start), std::nullopt};
  }
  auto member = GroupMember::join(*log, options_.group, options_.offset_reset, settings_.lease,
                                  settings_.sync_commits);
  if (!member) return member.error();
  // The reader goes wherever the member's claims say; it starts at the oldest record.
  return Subscription{topic, LogReader(*log, (*log)->earliest()), std::move(*member)};
}

Result<void> MmapConsumer::assign(std::span<const std::string> topics) {
  if (forked_away()) return Error{ErrorCode::kUnavailable, "consumer inherited across fork()"};
  auto current = [&](const std::string& topic) {
    return std::find_if(subscriptions_.begin(), subscriptions_.end(),
                        [&](const auto& sub) { return sub->topic == topic; });
  };
  // New topics first, touching nothing of the current subscription: if one fails (its
  // group is held elsewhere, say), the consumer stays exactly as it was.
  std::vector<std::unique_ptr<Subscription>> added;
  for (const auto& topic : topics) {
    if (current(topic) != subscriptions_.end()) continue;
    auto subscription = subscribe(topic);
    if (!subscription) return subscription.error();
    added.push_back(std::make_unique<Subscription>(std::move(*subscription)));
  }
  std::vector<std::unique_ptr<Subscription>> next;
  for (const auto& topic : topics) {
    if (auto kept = current(topic); kept != subscriptions_.end()) {
      next.push_back(std::move(*kept));
      subscriptions_.erase(kept);
    } else {
      auto fresh = std::find_if(added.begin(), added.end(),
                                [&](const auto& sub) { return sub && sub->topic == topic; });
      next.push_back(std::move(*fresh));
    }
  }
  // Topics left behind leave their groups uncommitted: the ranges they held are released,
  // and what they handed out since the last commit goes to the other members.
  subscriptions_ = std::move(next);
  next_topic_ = 0;
  return {};
}

std::size_t MmapConsumer::collect(std::vector<detail::Delivery>& out, std::size_t max,
                                  detail::Deadline deadline) {
  std::size_t added = 0;
  group_busy_ = false;
  LogRecord record;
  // The group's lock is held for microseconds; a poll that may not wait still tries briefly.
  const auto lock_deadline = std::max(deadline, detail::Clock::now() + kMinLockWait);
  for (std::size_t visited = 0; visited < subscriptions_.size() && added < max; ++visited) {
    auto& sub = *subscriptions_[(next_topic_ + visited) % subscriptions_.size()];
    const auto deliver = [&](LogRecord& got) {
      detail::Delivery delivery;
      delivery.bytes = got.payload;
      delivery.owner = std::move(got.owner);
      delivery.topic = sub.topic;
      out.push_back(std::move(delivery));
    };
    if (sub.member) {
      const std::size_t got = sub.member->claim(sub.reader, max - added, lock_deadline, deliver);
      if (got == 0 && sub.member->lock_was_busy()) group_busy_ = true;
      added += got;
      continue;
    }
    while (added < max && sub.reader.next(record)) {
      deliver(record);
      ++added;
    }
  }
  if (!subscriptions_.empty()) next_topic_ = (next_topic_ + 1) % subscriptions_.size();
  return added;
}

bool MmapConsumer::any_stopped_early() const noexcept {
  return std::any_of(subscriptions_.begin(), subscriptions_.end(),
                     [](const auto& sub) { return sub->reader.stopped_early(); }) ||
         group_busy_;
}

void MmapConsumer::sleep(std::chrono::nanoseconds wait, std::vector<detail::Delivery>& out,
                         std::size_t max, detail::Deadline deadline) {
  wait = std::min<std::chrono::nanoseconds>(wait, kSleepSlice);
  if (any_stopped_early()) wait = std::min<std::chrono::nanoseconds>(wait, kPendingRecheck);
  // Announce the wait on every topic, then look once more (Dekker with the writers'
  // publish in TopicLog::wake_readers): a record published after this look wakes us.
  const std::int64_t until = monotonic_ns() + wait.count();
  std::vector<std::atomic<std::uint32_t>*> words;
  std::vector<std::uint32_t> expected;
  for (const auto& sub : subscriptions_) {
    auto& block = sub->reader.log()->control();
    // A reader announces how long it may sleep, one slice at a time: one killed asleep
    // keeps writers paying for wake-ups for a slice at most. A time further ahead than any
    // reader announces is another boot's (or clock's), and is replaced.
    std::int64_t announced = block.sleep_until.load(std::memory_order_seq_cst);
    while ((announced < until || announced - until > kMaxSleepAnnounced.count()) &&
           !block.sleep_until.compare_exchange_weak(announced, until, std::memory_order_seq_cst)) {
    }
    block.waiters.fetch_add(1, std::memory_order_seq_cst);
    words.push_back(&block.wake);
    expected.push_back(block.wake.load(std::memory_order_acquire));
  }
  if (collect(out, max, deadline) == 0) futex_wait_any(words, expected, wait);
  for (const auto& sub : subscriptions_) {
    sub->reader.log()->control().waiters.fetch_sub(1, std::memory_order_relaxed);
  }
}

Status MmapConsumer::poll(std::vector<detail::Delivery>& out, std::size_t max,
                          detail::Deadline deadline) noexcept {
  try {
    if (forked_away()) return Status::kError;
    const std::size_t before = out.size();
    for (;;) {
      if (collect(out, max, deadline) > 0) return Status::kOk;
      const auto now = detail::Clock::now();
      if (now >= deadline) return Status::kTimeout;
      if (subscriptions_.empty()) {
        std::this_thread::sleep_until(std::min(deadline, now + kSleepSlice));
        continue;
      }
      sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now), out, max,
            deadline);
      if (out.size() > before) return Status::kOk;
    }
  } catch (...) {
    return Status::kError;
  }
}

Status MmapConsumer::commit() noexcept {
  return commit_members(detail::Clock::now() + kCommitPatience, true);
}

// Receive's auto-commit: a lock still busy at the receive's deadline is no error (the
// commit is tried again at the next receive), so it is not logged.
Status MmapConsumer::commit_until(detail::Deadline deadline) noexcept {
  return commit_members(deadline, false);
}

Status MmapConsumer::commit_members(detail::Deadline deadline, bool report_busy) noexcept {
  try {
    if (forked_away()) return Status::kError;
    // As a poll, one with no time left still tries briefly for the lock.
    const auto lock_deadline = std::max(deadline, detail::Clock::now() + kMinLockWait);
    for (auto& sub : subscriptions_) {
      if (!sub->member) continue;
      if (auto committed = sub->member->commit(lock_deadline); !committed) {
        if (report_busy || committed.error().code != ErrorCode::kTimeout) {
          log(LogLevel::kError, "mmap consumer: " + committed.error().message);
        }
        return Status::kError;
      }
    }
    return Status::kOk;
  } catch (...) {
    return Status::kError;
  }
}

Result<void> MmapConsumer::seek(std::string_view topic, bool to_latest) {
  if (forked_away()) return Error{ErrorCode::kUnavailable, "consumer inherited across fork()"};
  for (auto& sub : subscriptions_) {
    if (sub->topic != topic) continue;
    const auto& log = sub->reader.log();
    return move_to(*sub, to_latest ? log->latest() : log->earliest());
  }
  return Error{ErrorCode::kInvalidArgument, "not subscribed to topic '" + std::string(topic) + "'"};
}

Result<std::uint64_t> MmapConsumer::seek_to(std::string_view topic,
                                            const detail::SeekProbe& probe) {
  if (forked_away()) return Error{ErrorCode::kUnavailable, "consumer inherited across fork()"};
  for (auto& sub : subscriptions_) {
    if (sub->topic != topic) continue;
    // A reader of its own from the oldest record retained, so the subscription's place
    // stays as it is should the move fail.
    LogReader scan(sub->reader.log(), sub->reader.log()->earliest());
    std::uint64_t passed = 0;
    std::uint64_t start = scan.position();
    LogRecord record;
    for (;;) {
      if (scan.next(record)) {
        const auto place = probe(record.payload);
        if (place == detail::SeekPlace::kBefore) {
          ++passed;
          start = record.next;
          continue;
        }
        start = place == detail::SeekPlace::kStart ? record.position : record.next;
        if (place == detail::SeekPlace::kLast) ++passed;
        break;
      }
      // The read's step bound moved it on: read on. A record still being written (or the
      // end) stops the scan there, so that record and all after it are read again.
      if (!scan.stopped_early() || scan.position() == start) break;
      start = scan.position();
    }
    if (auto moved = move_to(*sub, start); !moved) return moved.error();
    return passed;
  }
  return Error{ErrorCode::kInvalidArgument, "not subscribed to topic '" + std::string(topic) + "'"};
}

Result<void> MmapConsumer::move_to(Subscription& sub, std::uint64_t position) {
  if (!sub.member) {
    sub.reader.seek(position);
    return {};
  }
  return sub.member->seek(position);
}

void MmapConsumer::close() noexcept { subscriptions_.clear(); }

}  // namespace mlops::orchestration::detail::mmap
