#include "orchestration/mmap/group_table.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

#include "orchestration/mmap/crc32c.h"

namespace mlops::orchestration::detail::mmap {
namespace {

constexpr std::uint32_t kGroupTableVersion = 1;

std::uint32_t table_crc(const GroupTable& table) noexcept {
  GroupTable copy;
  const std::size_t bytes =
      offsetof(GroupTable, slots) + sizeof(ClaimSlot) * std::min(table.used_slots, kGroupSlots);
  std::memcpy(&copy, &table, bytes);
  copy.crc = 0;
  return crc32c(&copy, bytes);
}

bool known_state(ClaimState state) noexcept {
  return state == ClaimState::kFree || state == ClaimState::kClaimed ||
         state == ClaimState::kReleased || state == ClaimState::kCommitted;
}

}  // namespace

bool table_valid(const GroupTable& table, std::uint64_t watermark, std::uint64_t frontier_limit,
                 std::uint64_t segment_bytes, std::string& why) {
  static constexpr char kZeros[sizeof table.magic] = {};
  if (std::memcmp(table.magic, kZeros, sizeof kZeros) == 0) {
    why.clear();
    return false;
  }
  if (std::memcmp(table.magic, kGroupTableMagic, sizeof table.magic) != 0 ||
      table.version != kGroupTableVersion || table.used_slots > kGroupSlots) {
    why = "bad magic, version or size";
    return false;
  }
  if (table.crc != table_crc(table)) {
    why = "bad CRC";
    return false;
  }
  if (table.watermark != watermark) {
    why = "built on another committed position (a crash between two writes, or a restored copy)";
    return false;
  }
  const auto boundary = [&](std::uint64_t position) {
    return is_record_boundary(normalize(position, segment_bytes), segment_bytes);
  };
  if (table.frontier < watermark || table.frontier > frontier_limit || !boundary(table.frontier)) {
    why = "frontier out of range";
    return false;
  }
  // The claimed ranges must tile [watermark, frontier): sorted by start, each begins where
  // the one before ends.
  std::array<const ClaimSlot*, kGroupSlots> ranges{};
  std::size_t count = 0;
  for (std::uint32_t i = 0; i < table.used_slots; ++i) {
    const ClaimSlot& slot = table.slots[i];
    if (!known_state(slot.state)) {
      why = "unknown claim state";
      return false;
    }
    if (slot.state == ClaimState::kFree) continue;
    if (slot.start >= slot.end || !boundary(slot.start) || !boundary(slot.end)) {
      why = "malformed range";
      return false;
    }
    ranges[count++] = &slot;
  }
  std::sort(ranges.begin(), ranges.begin() + static_cast<std::ptrdiff_t>(count),
            [](const ClaimSlot* a, const ClaimSlot* b) { return a->start < b->start; });
  std::uint64_t expected = watermark;
  for (std::size_t i = 0; i < count; ++i) {
    if (ranges[i]->start != expected) {
      why = "ranges overlap or leave a gap";
      return false;
    }
    expected = ranges[i]->end;
  }
  if (expected != table.frontier) {
    why = "ranges do not reach the frontier";
    return false;
  }
  return true;
}

void reset_table(GroupTable& table, std::uint64_t watermark,
                 std::uint64_t first_claim_id) noexcept {
  std::memset(&table, 0, sizeof table);
  std::memcpy(table.magic, kGroupTableMagic, sizeof table.magic);
  table.version = kGroupTableVersion;
  table.watermark = watermark;
  table.frontier = watermark;
  table.next_claim_id = first_claim_id;
}

void roll_table_forward(GroupTable& table, std::uint64_t watermark) noexcept {
  for (std::uint32_t i = 0; i < std::min(table.used_slots, kGroupSlots); ++i) {
    ClaimSlot& slot = table.slots[i];
    if (slot.state == ClaimState::kFree) continue;
    if (slot.end <= watermark) {
      slot = ClaimSlot{};
    } else if (slot.start < watermark) {
      slot.start = watermark;
    }
  }
  table.watermark = watermark;
  table.frontier = std::max(table.frontier, watermark);
  while (table.used_slots > 0 && table.slots[table.used_slots - 1].state == ClaimState::kFree) {
    --table.used_slots;
  }
}

void seal_table(GroupTable& table) noexcept { table.crc = table_crc(table); }

int take_free_slot(GroupTable& table) noexcept {
  for (std::uint32_t i = 0; i < table.used_slots; ++i) {
    if (table.slots[i].state == ClaimState::kFree) return static_cast<int>(i);
  }
  if (table.used_slots == kGroupSlots) return -1;
  std::memset(&table.slots[table.used_slots], 0, sizeof(ClaimSlot));
  return static_cast<int>(table.used_slots++);
}

int slot_starting_at(const GroupTable& table, std::uint64_t position) noexcept {
  for (std::uint32_t i = 0; i < std::min(table.used_slots, kGroupSlots); ++i) {
    const ClaimSlot& slot = table.slots[i];
    if (slot.state != ClaimState::kFree && slot.start == position) return static_cast<int>(i);
  }
  return -1;
}

int slot_ending_at(const GroupTable& table, std::uint64_t position) noexcept {
  for (std::uint32_t i = 0; i < std::min(table.used_slots, kGroupSlots); ++i) {
    const ClaimSlot& slot = table.slots[i];
    if (slot.state != ClaimState::kFree && slot.end == position) return static_cast<int>(i);
  }
  return -1;
}

std::uint32_t merge_committed(GroupTable& table) noexcept {
  std::uint32_t freed = 0;
  for (std::uint32_t i = 0; i < std::min(table.used_slots, kGroupSlots); ++i) {
    ClaimSlot& slot = table.slots[i];
    if (slot.state != ClaimState::kCommitted) continue;
    // Swallow the committed ranges that follow, one after another.
    for (int next = slot_starting_at(table, slot.end);
         next >= 0 && table.slots[next].state == ClaimState::kCommitted &&
         next != static_cast<int>(i);
         next = slot_starting_at(table, slot.end)) {
      slot.end = table.slots[next].end;
      table.slots[next] = ClaimSlot{};
      ++freed;
    }
  }
  return freed;
}

std::uint64_t advance_watermark(GroupTable& table) noexcept {
  (void)merge_committed(table);
  for (bool moved = true; moved;) {
    moved = false;
    for (std::uint32_t i = 0; i < table.used_slots; ++i) {
      ClaimSlot& slot = table.slots[i];
      if (slot.state == ClaimState::kCommitted && slot.start == table.watermark) {
        table.watermark = slot.end;
        slot = ClaimSlot{};
        moved = true;
      }
    }
  }
  while (table.used_slots > 0 && table.slots[table.used_slots - 1].state == ClaimState::kFree) {
    --table.used_slots;
  }
  return table.watermark;
}

}  // namespace mlops::orchestration::detail::mmap
