#include "orchestration/mmap/mmap_consumer.h"

#include <algorithm>

#include "mlops/log.h"
#include "orchestration/mmap/futex.h"

namespace mlops::orchestration::mmap {
namespace {
// A reader stopped at a record still being written re-checks its writer this often: a
// writer's death wakes nobody.
constexpr std::chrono::milliseconds kPendingRecheck{20};
}  // namespace

Result<MmapConsumer::Subscription> MmapConsumer::subscribe(const std::string& topic) {
  auto log = queue_->topic(topic);
  if (!log) return log.error();
  std::optional<GroupCursor> cursor;
  std::optional<std::uint64_t> start;
  if (!options_.group.empty()) {
    auto opened = GroupCursor::open((*log)->directory(), options_.group);
    if (!opened) return opened.error();
    cursor = std::move(*opened);
    start = cursor->committed();
  }
  if (!start) {
    start = options_.offset_reset == OffsetReset::kEarliest ? (*log)->earliest() : (*log)->latest();
    // A new group records where it starts, so a restart before its first commit resumes
    // there (re-reading, never skipping) and retention knows what it still needs.
    if (cursor) {
      if (auto committed = cursor->commit(*start, settings_.sync_commits); !committed) {
        return committed.error();
      }
    }
  }
  return Subscription{topic, LogReader(*log, *start), std::move(cursor)};
}

Result<void> MmapConsumer::assign(std::span<const std::string> topics) {
  std::vector<std::unique_ptr<Subscription>> next;
  for (const auto& topic : topics) {
    auto kept = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                             [&](const auto& sub) { return sub && sub->topic == topic; });
    if (kept != subscriptions_.end()) {
      next.push_back(std::move(*kept));
      continue;
    }
    auto added = subscribe(topic);
    if (!added) return added.error();  // The old subscription stays as it was.
    next.push_back(std::make_unique<Subscription>(std::move(*added)));
  }
  // Topics left behind unlock their cursors uncommitted: what they handed out since the
  // last commit comes again to the group.
  subscriptions_ = std::move(next);
  next_topic_ = 0;
  return {};
}

std::size_t MmapConsumer::collect(std::vector<detail::Delivery>& out, std::size_t max) {
  std::size_t added = 0;
  LogRecord record;
  for (std::size_t visited = 0; visited < subscriptions_.size() && added < max; ++visited) {
    auto& sub = *subscriptions_[(next_topic_ + visited) % subscriptions_.size()];
    while (added < max && sub.reader.next(record)) {
      detail::Delivery delivery;
      delivery.bytes = record.payload;
      delivery.owner = std::move(record.owner);
      delivery.topic = sub.topic;
      out.push_back(std::move(delivery));
      ++added;
    }
  }
  if (!subscriptions_.empty()) next_topic_ = (next_topic_ + 1) % subscriptions_.size();
  return added;
}

bool MmapConsumer::any_at_pending_record() const noexcept {
  return std::any_of(subscriptions_.begin(), subscriptions_.end(),
                     [](const auto& sub) { return sub->reader.at_pending_record(); });
}

Status MmapConsumer::poll(std::vector<detail::Delivery>& out, std::size_t max,
                          detail::Deadline deadline) noexcept {
  try {
    auto& notify = queue_->notify();
    for (;;) {
      if (collect(out, max) > 0) return Status::kOk;
      const auto now = detail::Clock::now();
      if (now >= deadline) return Status::kTimeout;
      // Announce the wait, then look once more (Dekker with the writer's fence): a record
      // published after this look bumps the sequence, so the futex does not sleep on it.
      notify.waiters.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t sequence = notify.sequence.load(std::memory_order_acquire);
      if (collect(out, max) > 0) {
        notify.waiters.fetch_sub(1, std::memory_order_relaxed);
        return Status::kOk;
      }
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      if (any_at_pending_record()) wait = std::min<std::chrono::nanoseconds>(wait, kPendingRecheck);
      futex_wait(notify.sequence, sequence, wait);
      notify.waiters.fetch_sub(1, std::memory_order_relaxed);
    }
  } catch (...) {
    return Status::kError;
  }
}

Status MmapConsumer::commit() noexcept {
  try {
    for (auto& sub : subscriptions_) {
      if (!sub->cursor) continue;
      if (auto committed = sub->cursor->commit(sub->reader.position(), settings_.sync_commits);
          !committed) {
        log(LogLevel::kError, "mmap consumer: " + committed.error().message);
        return Status::kError;
      }
    }
    return Status::kOk;
  } catch (...) {
    return Status::kError;
  }
}

void MmapConsumer::close() noexcept { subscriptions_.clear(); }

}  // namespace mlops::orchestration::mmap
