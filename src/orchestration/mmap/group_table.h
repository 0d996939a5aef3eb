#pragma once
// The pure operations on a group's claim table (layout.h's GroupTable): checking it,
// starting it afresh, finding slots and merging committed ranges into the watermark. No
// I/O and no clock here; GroupMember calls them under the group's lock.

#include <cstdint>
#include <string>

#include "orchestration/mmap/layout.h"

namespace mlops::orchestration::detail::mmap {

/// Whether `table` is sound and built on `watermark`: magic, version, CRC, the frontier
/// between the watermark and `frontier_limit`, every position a record boundary of
/// `segment_bytes`, and the claimed ranges partitioning [watermark, frontier) exactly.
/// On false `why` says what is wrong (empty for a table never written).
[[nodiscard]] bool table_valid(const GroupTable& table, std::uint64_t watermark,
                               std::uint64_t frontier_limit, std::uint64_t segment_bytes,
                               std::string& why);

/// Makes `table` empty at `watermark` (no claims, frontier = watermark), with claim ids
/// from `first_claim_id` on.
void reset_table(GroupTable& table, std::uint64_t watermark, std::uint64_t first_claim_id) noexcept;

/// Moves a sound `table` built on an older watermark forward to `watermark`: ranges below
/// it go (committed), a range across it keeps its part above, the rest is kept as it is.
void roll_table_forward(GroupTable& table, std::uint64_t watermark) noexcept;

/// Sets the table's CRC; call before writing it.
void seal_table(GroupTable& table) noexcept;

/// The index of a free slot (zeroed, counted in used_slots), or -1 when all are taken.
[[nodiscard]] int take_free_slot(GroupTable& table) noexcept;

/// Merges adjacent committed ranges into one slot each, then the committed ranges at the
/// watermark into it, and frees their slots.
/// @return the new watermark (also stored in the table).
std::uint64_t advance_watermark(GroupTable& table) noexcept;

/// Merges every committed range next to another committed range into one slot (so
/// committed ranges above an uncommitted one cost one slot per gap, not one per commit).
/// @return how many slots were freed.
std::uint32_t merge_committed(GroupTable& table) noexcept;

/// The index of the used, non-free slot whose range starts at `position`, or -1.
[[nodiscard]] int slot_starting_at(const GroupTable& table, std::uint64_t position) noexcept;

/// The index of the used, non-free slot whose range ends at `position`, or -1.
[[nodiscard]] int slot_ending_at(const GroupTable& table, std::uint64_t position) noexcept;

}  // namespace mlops::orchestration::detail::mmap
