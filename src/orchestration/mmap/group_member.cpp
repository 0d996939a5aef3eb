#include "orchestration/mmap/group_member.h"

#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <optional>
#include <utility>

#include "mlops/log.h"
#include "orchestration/mmap/group_table.h"
#include "orchestration/mmap/process_registry.h"

namespace mlops::orchestration::detail::mmap {
namespace {

// Joining, committing and leaving wait this long for the group's lock at most: it is held
// for microseconds, so only a holder stopped (SIGSTOP, a debugger) makes them give up.
constexpr std::chrono::seconds kLockPatience{5};
constexpr std::chrono::seconds kLeavePatience{1};
// A live owner is asked again after this long (a registry look-up is a few system calls).
constexpr std::chrono::milliseconds kAliveRecheck{50};

std::int64_t monotonic_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

std::uint64_t random_claim_base() noexcept {
  std::uint64_t bits = 0;
  if (::getrandom(&bits, sizeof bits, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bits)) {
    bits = static_cast<std::uint64_t>(monotonic_ns()) * 0x9E3779B97F4A7C15ULL;
  }
  return (bits >> 2) | 1;  // Never 0, and far from wrapping.
}

std::atomic<std::uint32_t> g_next_member{1};

// Unlocks on scope exit.
class Locked {
 public:
  explicit Locked(GroupCursor& cursor, std::chrono::steady_clock::time_point deadline)
      : cursor_(cursor), held_(cursor.lock_until(deadline)) {}
  ~Locked() {
    if (held_) cursor_.unlock();
  }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;
  explicit operator bool() const noexcept { return held_; }

 private:
  GroupCursor& cursor_;
  bool held_;
};

}  // namespace

Result<GroupMember> GroupMember::join(const std::shared_ptr<TopicLog>& log,
                                      const std::string& group, OffsetReset reset,
                                      std::chrono::milliseconds lease, bool durable) {
  auto process = log->registry().id();
  if (!process) return process.error();
  auto opened = GroupCursor::open(log->groups(), group, log->modes(), durable);
  if (!opened) return opened.error();
  GroupMember member(log, std::move(*opened), lease, durable, *process,
                     g_next_member.fetch_add(1, std::memory_order_relaxed));
  member.group_ = group;
  {  // Unlocked before the member moves out.
    const Locked locked(member.cursor_, std::chrono::steady_clock::now() + kLockPatience);
    if (!locked) {
      return Error{ErrorCode::kUnavailable,
                   "group '" + member.cursor_.path() + "' stayed locked by another member"};
    }
    // A new group records where it starts, so a restart before its first commit resumes
    // there (re-reading, never skipping) and retention knows what it still needs.
    const auto committed = member.cursor_.committed();
    std::optional<std::uint64_t> record;
    if (!committed) {
      record = reset == OffsetReset::kEarliest ? log->earliest() : log->latest();
    } else if (*committed > log->latest()) {
      // Past the tail: a damaged cursor. Resuming at the tail skips nothing written yet.
      mlops::log(LogLevel::kWarning, "mmap consumer: group '" + group + "' of topic '" +
                                         log->name() + "' was past the end; it resumes at the end");
      record = log->latest();
    }
    if (record) {
      if (auto written = member.cursor_.commit(*record, durable); !written) return written.error();
    }
    GroupTable table;
    if (!member.load(table)) {
      return Error{ErrorCode::kUnavailable, "cannot read group '" + member.cursor_.path() + "'"};
    }
  }
  return member;
}

GroupMember::GroupMember(std::shared_ptr<TopicLog> log, GroupCursor cursor,
                         std::chrono::milliseconds lease, bool durable, std::uint32_t process,
                         std::uint32_t member)
    : log_(std::move(log)),
      cursor_(std::move(cursor)),
      lease_(lease),
      durable_(durable),
      process_(process),
      member_(member) {}

GroupMember::~GroupMember() { leave(); }

bool GroupMember::load(GroupTable& table) {
  if (auto read = cursor_.read_table(table); !read) {
    log(LogLevel::kError, "mmap consumer: " + read.error().message);
    return false;
  }
  const std::uint64_t watermark = cursor_.committed().value_or(log_->earliest());
  // A frontier far past the tail is damage: new claims would wait there for ever.
  const std::uint64_t limit = log_->latest() + 2 * log_->segment_bytes();
  std::string why;
  // A commit writes the table, then the cursor: a table ahead of the cursor is a commit
  // whose member died between the two writes, and the cursor is rolled forward to it.
  const std::uint64_t built_on = std::max(table.watermark, watermark);
  if (table_valid(table, built_on, limit, log_->segment_bytes(), why)) {
    seen_table_ = true;
    if (built_on == watermark) return true;
    if (auto written = cursor_.commit(built_on, durable_); written) return true;
    why = "its committed position could not be written";
  } else if (table.watermark < watermark &&
             table_valid(table, table.watermark, limit, log_->segment_bytes(), why)) {
    // A sound table behind the cursor (a restored copy, a cursor written alone): what lies
    // below the cursor is committed; the ranges above it stay with their owners.
    roll_table_forward(table, watermark);
    seal_table(table);
    if (table_valid(table, watermark, limit, log_->segment_bytes(), why)) return store(table);
  }
  // Zeros are a table never written, unless this member saw one: then it was wiped.
  if (why.empty() && seen_table_) why = "zeroed or truncated since this member read it";
  if (!why.empty()) {
    ++repairs_;
    log(LogLevel::kWarning, "mmap consumer: claim table of group '" + cursor_.path() + "' is " +
                                "unusable (" + why + "); rebuilt at the committed position, so " +
                                "everything uncommitted is handed out again");
  }
  reset_table(table, watermark, random_claim_base());
  held_.clear();
  return store(table);
}

void GroupMember::follow_replaced_file() {
  if (!cursor_.unlinked()) return;
  auto reopened = GroupCursor::open(log_->groups(), group_, log_->modes(), durable_);
  if (!reopened) return;  // Keeps the old file; looked at again next time.
  log(LogLevel::kWarning, "mmap consumer: group file '" + cursor_.path() + "' was deleted or " +
                              "replaced; this member follows the file now there, and what it " +
                              "held uncommitted is that group's to hand out");
  ++repairs_;
  held_.clear();
  cursor_ = std::move(*reopened);
}

bool GroupMember::store(GroupTable& table) {
  seal_table(table);
  if (auto written = cursor_.write_table(table); !written) {
    log(LogLevel::kError, "mmap consumer: " + written.error().message);
    return false;
  }
  return true;
}

bool GroupMember::refresh_held(GroupTable& table, std::int64_t now) {
  bool changed = false;
  std::erase_if(held_, [&](Held& held) {
    if (held.end <= table.watermark) return true;  // Committed meanwhile (a table rolled forward).
    held.start = std::max(held.start, table.watermark);
    held.delivered = std::max(held.delivered, held.start);
    const ClaimSlot& slot = table.slots[held.slot];
    const bool mine = static_cast<std::uint32_t>(held.slot) < table.used_slots &&
                      slot.state == ClaimState::kClaimed && slot.claim_id == held.claim_id;
    if (!mine) {
      // A lapsed lease is not the only cause: a seek by any member resets the whole table.
      log(LogLevel::kWarning,
          "mmap consumer: a range of group '" + cursor_.path() +
              "' that this member read is no longer its own: a member moved "
              "the group (seek), or another member took the range over after "
              "this one held it past its lease; this member does not commit it");
    }
    return !mine;
  });
  const std::int64_t lease_ns = std::chrono::nanoseconds(lease_).count();
  for (const Held& held : held_) {
    ClaimSlot& slot = table.slots[held.slot];
    // Renewed once half of it is used: most receives then leave the table unwritten.
    if (slot.lease_until - now < lease_ns / 2) {
      slot.lease_until = now + lease_ns;
      changed = true;
    }
  }
  return changed;
}

Result<void> GroupMember::seek(std::uint64_t position) {
  follow_replaced_file();
  const Locked locked(cursor_, std::chrono::steady_clock::now() + kLockPatience);
  if (!locked) {
    return Error{ErrorCode::kTimeout,
                 "group '" + cursor_.path() + "' stayed locked by another member"};
  }
  // The table first, then the cursor (as a commit): load() rolls a table ahead of the
  // cursor forward (a seek forward completes) and one behind it back (a seek back is undone).
  GroupTable table;
  reset_table(table, position, random_claim_base());
  held_.clear();
  if (!store(table)) {
    return Error{ErrorCode::kUnavailable, "cannot write group '" + cursor_.path() + "'"};
  }
  if (auto written = cursor_.commit(position, durable_); !written) return written.error();
  return {};
}

bool GroupMember::owner_alive(std::uint32_t process) {
  if (process == process_) return true;
  if (dead_.contains(process)) return false;
  const auto now = std::chrono::steady_clock::now();
  if (auto checked = alive_checked_.find(process);
      checked != alive_checked_.end() && now - checked->second < kAliveRecheck) {
    return true;
  }
  if (log_->registry().alive(process)) {
    alive_checked_[process] = now;
    return true;
  }
  alive_checked_.erase(process);
  dead_[process] = true;
  return false;
}

bool GroupMember::reclaimable(const ClaimSlot& slot, std::int64_t now) {
  if (slot.state == ClaimState::kReleased) return true;
  if (slot.state != ClaimState::kClaimed) return false;
  if (slot.owner_process == process_ && slot.owner_member == member_) {
    // Ours by id but not held: this member's claim from before a table rebuild.
    return std::none_of(held_.begin(), held_.end(),
                        [&](const Held& held) { return held.claim_id == slot.claim_id; });
  }
  // Expired, or a deadline further ahead than any lease (another boot's clock).
  const std::int64_t max_lease = std::chrono::nanoseconds(kMaxLease).count();
  if (slot.lease_until < now || slot.lease_until - now > max_lease) return true;
  return !owner_alive(slot.owner_process);
}

std::size_t GroupMember::deliver_from(LogReader& reader, Held& held, std::size_t max,
                                      const std::function<void(LogRecord&)>& deliver) {
  if (reader.position() != held.delivered) reader.seek(held.delivered);
  std::size_t handed = 0;
  LogRecord record;
  while (handed < max && reader.position() < held.end && reader.next(record)) {
    if (record.position >= held.end) {
      // Stepped over skipped slots past the range: that record is another range's.
      reader.seek(record.position);
      break;
    }
    deliver(record);
    ++handed;
  }
  held.delivered = std::min(std::max(held.delivered, reader.position()), held.end);
  return handed;
}

std::size_t GroupMember::claim(LogReader& reader, std::size_t max,
                               std::chrono::steady_clock::time_point deadline,
                               const std::function<void(LogRecord&)>& deliver) {
  if (max == 0) return 0;
  follow_replaced_file();
  const Locked locked(cursor_, deadline);
  lock_busy_ = !locked;
  if (!locked) return 0;
  GroupTable table;
  if (!load(table)) return 0;
  const std::int64_t now = monotonic_ns();
  bool changed = refresh_held(table, now);
  std::size_t handed = 0;
  // 1. The rest of what this member already holds.
  for (Held& held : held_) {
    if (handed == max) break;
    if (held.delivered < held.end) handed += deliver_from(reader, held, max - handed, deliver);
  }
  // 2. Ranges their owners left, lost (death) or let lapse.
  const std::int64_t lease_ns = std::chrono::nanoseconds(lease_).count();
  for (std::uint32_t i = 0; i < table.used_slots && handed < max; ++i) {
    ClaimSlot& slot = table.slots[i];
    if (!reclaimable(slot, now)) continue;
    slot.state = ClaimState::kClaimed;
    slot.claim_id = table.next_claim_id++;
    slot.owner_process = process_;
    slot.owner_member = member_;
    slot.lease_until = now + lease_ns;
    changed = true;
    ++takeovers_;
    held_.push_back(Held{static_cast<int>(i), slot.claim_id, slot.start, slot.end, slot.start});
    handed += deliver_from(reader, held_.back(), max - handed, deliver);
  }
  // 3. New records from the frontier: grow this member's last range when it ends there
  //    (one slot for a member reading alone), else take a free slot.
  if (handed < max) {
    Held* grow = nullptr;
    for (Held& held : held_) {
      if (held.end == table.frontier && held.delivered == held.end) grow = &held;
    }
    int slot = grow != nullptr ? grow->slot : take_free_slot(table);
    if (slot < 0 && make_room(table)) {
      changed = true;
      grow = nullptr;
      for (Held& held : held_) {
        if (held.end == table.frontier && held.delivered == held.end) grow = &held;
      }
      slot = grow != nullptr ? grow->slot : take_free_slot(table);
    }
    if (slot < 0 && !full_reported_) {
      full_reported_ = true;
      log(LogLevel::kWarning, "mmap consumer: claim table of group '" + cursor_.path() +
                                  "' is full (" + std::to_string(kGroupSlots) +
                                  " ranges claimed or committed above the lowest " +
                                  "uncommitted one); new records wait until members commit");
    }
    if (slot >= 0) {
      Held fresh{slot, 0, table.frontier, UINT64_MAX, table.frontier};
      Held& target = grow != nullptr ? *grow : fresh;
      const std::uint64_t end_before = target.end;
      target.end = UINT64_MAX;
      handed += deliver_from(reader, target, max - handed, deliver);
      const std::uint64_t end = std::max(target.delivered, table.frontier);
      target.end = end_before;
      if (end > table.frontier) {
        ClaimSlot& claimed = table.slots[slot];
        if (grow != nullptr) {
          claimed.end = end;
          grow->end = end;
          grow->delivered = end;
        } else {
          claimed = ClaimSlot{table.frontier, end,     table.next_claim_id++, now + lease_ns,
                              process_,       member_, ClaimState::kClaimed,  0};
          fresh.claim_id = claimed.claim_id;
          fresh.end = end;
          fresh.delivered = end;
          held_.push_back(fresh);
        }
        table.frontier = end;
        changed = true;
      } else if (grow == nullptr) {
        table.slots[slot] = ClaimSlot{};  // Taken for nothing: give it back.
        advance_watermark(table);         // Only trims used_slots here.
      }
    }
  }
  if (changed && !store(table)) {
    // Not recorded: what was read stays unclaimed for the group, and comes again.
    held_.clear();
  }
  return handed;
}

bool GroupMember::make_room(GroupTable& table) {
  bool freed = merge_committed(table) > 0;
  // A range of this member handed out whole swallows the committed ranges (anyone's) and
  // this member's own handed-out ranges that follow it: one slot where there were several.
  for (std::size_t i = 0; i < held_.size(); ++i) {
    Held& held = held_[i];
    if (held.delivered != held.end) continue;
    for (int next = slot_starting_at(table, held.end); next >= 0;
         next = slot_starting_at(table, held.end)) {
      ClaimSlot& after = table.slots[next];
      auto own = std::find_if(held_.begin(), held_.end(), [&](const Held& other) {
        return other.slot == next && other.claim_id == after.claim_id &&
               other.delivered == other.end;
      });
      const bool own_done = after.state == ClaimState::kClaimed && own != held_.end();
      if (after.state != ClaimState::kCommitted && !own_done) break;
      held.end = after.end;
      held.delivered = after.end;
      table.slots[held.slot].end = after.end;
      after = ClaimSlot{};
      freed = true;
      if (own_done) {
        held_.erase(own);
        (void)make_room(table);  // References moved: start over.
        return true;
      }
    }
  }
  return freed;
}

Result<void> GroupMember::commit(std::chrono::steady_clock::time_point deadline) {
  if (held_.empty()) return {};
  const Locked locked(cursor_, deadline);
  if (!locked) {
    return Error{ErrorCode::kTimeout,
                 "group '" + cursor_.path() + "' stayed locked by another member; not committed"};
  }
  GroupTable table;
  if (!load(table)) {
    return Error{ErrorCode::kUnavailable, "cannot read group '" + cursor_.path() + "'"};
  }
  (void)refresh_held(table, monotonic_ns());
  const std::uint64_t before = table.watermark;
  std::erase_if(held_, [&](Held& held) {
    if (held.delivered >= held.end) {
      table.slots[held.slot].state = ClaimState::kCommitted;
      return true;
    }
    return false;
  });
  (void)merge_committed(table);
  // Ranges handed out in part: the part becomes committed, in a slot of its own or joined
  // to the committed range (or the watermark) below it, or the rest goes back to the
  // frontier; when none of that fits, the part stays uncommitted and commit says so.
  std::size_t left_uncommitted = 0;
  for (Held& held : held_) {
    if (held.delivered <= held.start) continue;
    if (commit_part(table, held)) {
      held.start = held.delivered;
    } else {
      ++left_uncommitted;
    }
  }
  std::erase_if(held_, [](const Held& held) { return held.start >= held.end; });
  const std::uint64_t watermark = advance_watermark(table);
  // The table first, then the cursor: a member killed between the two leaves a table ahead
  // of the cursor, which the next look rolls the cursor forward to (load). The other order
  // would leave a stale table, and rebuilding it would hand out every member's claims again.
  if (!store(table)) {
    return Error{ErrorCode::kUnavailable, "cannot write group '" + cursor_.path() + "'"};
  }
  if (watermark != before) {
    if (auto written = cursor_.commit(watermark, durable_); !written) return written.error();
  }
  if (left_uncommitted > 0) {
    return Error{ErrorCode::kUnavailable,
                 "claim table of group '" + cursor_.path() + "' is full: " +
                     std::to_string(left_uncommitted) + " range(s) handed out in part were " +
                     "not committed (they come again if this member leaves); commit again later"};
  }
  return {};
}

bool GroupMember::commit_part(GroupTable& table, Held& held) {
  ClaimSlot& slot = table.slots[held.slot];
  if (slot.start == table.watermark) {
    // At the bottom: the watermark itself moves over the part.
    table.watermark = held.delivered;
    slot.start = held.delivered;
    return true;
  }
  if (const int below = slot_ending_at(table, slot.start);
      below >= 0 && table.slots[below].state == ClaimState::kCommitted) {
    table.slots[below].end = held.delivered;
    slot.start = held.delivered;
    return true;
  }
  if (const int part = take_free_slot(table); part >= 0) {
    table.slots[part] = slot;
    table.slots[part].end = held.delivered;
    table.slots[part].state = ClaimState::kCommitted;
    slot.start = held.delivered;
    return true;
  }
  if (slot.end == table.frontier) {
    // The rest was never handed out: it goes back to the frontier.
    slot.end = held.delivered;
    slot.state = ClaimState::kCommitted;
    table.frontier = held.delivered;
    held.end = held.delivered;
    return true;
  }
  return false;
}

void GroupMember::leave() noexcept {
  if (held_.empty()) return;
  try {
    const Locked locked(cursor_, std::chrono::steady_clock::now() + kLeavePatience);
    GroupTable table;
    if (locked && load(table)) {
      (void)refresh_held(table, monotonic_ns());
      for (const Held& held : held_) table.slots[held.slot].state = ClaimState::kReleased;
      (void)store(table);
      log_->wake_readers();  // Members asleep take the released ranges now.
    }
  } catch (...) {
    // Left to the leases.
  }
  held_.clear();
}

bool GroupMember::holds_undelivered() const noexcept {
  return std::any_of(held_.begin(), held_.end(),
                     [](const Held& held) { return held.delivered < held.end; });
}

}  // namespace mlops::orchestration::detail::mmap
