#pragma once
// One member of a consumer group in one topic: competing consumers on the mmap queue. The
// members share the group file's claim table (layout.h's GroupTable). Each receive claims
// a range of the log [start, end) under the file's lock, with a lease, and hands out its
// records; commit marks the member's ranges committed and moves the group's watermark over
// the committed ranges at its bottom. A range whose owner left, died (its process's
// registry lock is gone) or let its lease run out is taken over by the next member to
// look, which hands it out again: at-least-once, with duplicates only from such ranges.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "mlops/orchestration/consumer_options.h"
#include "mlops/result.h"
#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/topic_log.h"

namespace mlops::orchestration::detail::mmap {

/// The longest lease a member may ask for (`lease_ms`); a deadline further ahead is
/// another boot's clock, and the range is taken over.
inline constexpr std::chrono::milliseconds kMaxLease{3'600'000};

/// One thread at a time, in the process that joined (like the consumer that owns it).
class GroupMember {
 public:
  /// Joins `group` of `log`: opens its file and, for a group that never committed, records
  /// where it starts (`reset`), under the group's lock.
  /// @return the member; kUnavailable when the group file cannot be opened, locked within
  ///         a few seconds, or written; kInvalidArgument for a bad name.
  static Result<GroupMember> join(const std::shared_ptr<TopicLog>& log, const std::string& group,
                                  OffsetReset reset, std::chrono::milliseconds lease, bool durable);

  GroupMember(GroupMember&&) = default;
  GroupMember& operator=(GroupMember&&) = default;
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;
  /// Leaves the group (see leave()).
  ~GroupMember();

  /// Hands at most `max` records to `deliver`: first the rest of ranges this member holds,
  /// then ranges others abandoned, then new ones from the group's frontier. Renews the
  /// member's leases. Waits for the group's lock until `deadline` at most.
  /// @return how many records were handed out (0 also when the lock was busy).
  std::size_t claim(LogReader& reader, std::size_t max,
                    std::chrono::steady_clock::time_point deadline,
                    const std::function<void(LogRecord&)>& deliver);

  /// Marks everything handed out so far committed and moves the group's watermark.
  /// Ranges taken over by others (this member stalled past its lease) are left to them.
  /// @return kOk; kTimeout when the lock stays busy past `deadline`; kUnavailable when
  ///         the file cannot be written, or the claim table is full and a part stayed
  ///         uncommitted.
  Result<void> commit(std::chrono::steady_clock::time_point deadline);

  /// Moves the group to `position` (a record boundary: the log's earliest or latest), as
  /// a commit would: every claim of every member is dropped, so the group reads on from
  /// there. A crash part-way leaves the group where it was, or where it was moved.
  /// @return success; kTimeout when the lock stays busy; kUnavailable when the file
  ///         cannot be written.
  Result<void> seek(std::uint64_t position);

  /// Releases the ranges this member holds uncommitted, so other members take them at
  /// once. Idempotent; bounded (a busy lock leaves them to their leases).
  void leave() noexcept;

  /// Whether this member holds records it has not handed out yet (the caller should
  /// claim again soon rather than sleep long).
  [[nodiscard]] bool holds_undelivered() const noexcept;
  /// Whether the last claim() gave up on a busy lock (look again soon).
  [[nodiscard]] bool lock_was_busy() const noexcept { return lock_busy_; }
  /// Ranges this member took over from others, and table repairs it made (reported).
  [[nodiscard]] std::uint64_t takeovers() const noexcept { return takeovers_; }
  [[nodiscard]] std::uint64_t repairs() const noexcept { return repairs_; }

 private:
  struct Held {
    int slot;
    std::uint64_t claim_id;
    std::uint64_t start;
    std::uint64_t end;
    std::uint64_t delivered;  // Records below this were handed out.
  };

  GroupMember(std::shared_ptr<TopicLog> log, GroupCursor cursor, std::chrono::milliseconds lease,
              bool durable, std::uint32_t process, std::uint32_t member);
  // Reads the table, rebuilding it when damaged or stale. False when it cannot be read.
  bool load(GroupTable& table);
  bool store(GroupTable& table);
  // Drops held ranges the table no longer gives this member; renews the rest.
  bool refresh_held(GroupTable& table, std::int64_t now);
  bool reclaimable(const ClaimSlot& slot, std::int64_t now);
  // Frees slots of a full table: merges committed ranges, and lets this member's ranges it
  // handed out whole swallow the committed (or its own handed-out) ranges after them.
  // True when a slot was freed. (A range that swallowed others' committed ones hands them
  // out again should this member die or leave before committing: at-least-once.)
  bool make_room(GroupTable& table);
  // Reopens the group's file when the open one was deleted or replaced (a member on an
  // orphaned file would be a group of its own).
  void follow_replaced_file();
  // Commits the handed-out part of a range handed out in part; false when nothing fits.
  bool commit_part(GroupTable& table, Held& held);
  bool owner_alive(std::uint32_t process);
  std::size_t deliver_from(LogReader& reader, Held& held, std::size_t max,
                           const std::function<void(LogRecord&)>& deliver);

  std::shared_ptr<TopicLog> log_;
  GroupCursor cursor_;
  std::chrono::milliseconds lease_;
  bool durable_;
  std::uint32_t process_;
  std::uint32_t member_;
  std::string group_;
  std::vector<Held> held_;
  // Registry ids seen dead (for good) or alive (rechecked after a while).
  std::unordered_map<std::uint32_t, std::chrono::steady_clock::time_point> alive_checked_;
  std::unordered_map<std::uint32_t, bool> dead_;
  std::uint64_t takeovers_ = 0;
  std::uint64_t repairs_ = 0;
  bool lock_busy_ = false;
  bool seen_table_ = false;     // A valid table was read: zeros later are damage.
  bool full_reported_ = false;  // The table-full warning was logged (once per member).
};

}  // namespace mlops::orchestration::detail::mmap
