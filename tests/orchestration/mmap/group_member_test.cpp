// A consumer group's claim table and its members, in one process: the table's checks, the
// watermark, and damage to the group file (every bit of the table flipped, garbage,
// truncation) repaired without a crash and without losing an uncommitted record.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "orchestration/mmap/group_member.h"
#include "orchestration/mmap/group_table.h"
#include "orchestration/mmap/log_writer.h"
#include "support/mmap_test_support.h"

namespace mq = mlops::orchestration::detail::mmap;
using namespace std::chrono_literals;
using mlops::orchestration::OffsetReset;
using mlops::testing::as_bytes;
using mlops::testing::as_text;
using mlops::testing::small_segments;
using mlops::testing::TempDir;

namespace {

constexpr std::uint64_t kSegment = 4096;

std::uint64_t at(std::uint64_t offset) { return mq::first_position(0, kSegment) + offset; }

struct Fixture {
  explicit Fixture(const TempDir& dir, int records) {
    auto opened = mq::Queue::open(dir.str(), small_segments(kSegment));
    EXPECT_TRUE(opened.has_value());
    queue = *opened;
    log = *queue->topic("t");
    mq::LogWriter writer(log);
    for (int i = 0; i < records; ++i) {
      EXPECT_TRUE(writer.append(as_bytes(std::to_string(i))).has_value());
    }
  }
  [[nodiscard]] mq::GroupMember join() const {
    auto member = mq::GroupMember::join(log, "g", OffsetReset::kEarliest, 30s, false);
    EXPECT_TRUE(member.has_value()) << member.error().message;
    return std::move(*member);
  }
  std::shared_ptr<mq::Queue> queue;
  std::shared_ptr<mq::TopicLog> log;
};

// Claims until an empty claim; the texts handed out, in order.
std::vector<std::string> claim_all(mq::GroupMember& member, mq::LogReader& reader,
                                   std::size_t max = 1000) {
  std::vector<std::string> out;
  for (;;) {
    const auto got =
        member.claim(reader, max, std::chrono::steady_clock::now() + 1s,
                     [&](mq::LogRecord& record) { out.push_back(as_text(record.payload)); });
    if (got == 0 || out.size() >= max) return out;
  }
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(std::to_string(i));
  return out;
}

mq::GroupTable table_of(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> ranges,
                        std::uint64_t watermark, std::uint64_t frontier) {
  mq::GroupTable table;
  mq::reset_table(table, watermark, 1);
  table.frontier = frontier;
  for (const auto& [start, end] : ranges) {
    const int slot = mq::take_free_slot(table);
    table.slots[slot].start = start;
    table.slots[slot].end = end;
    table.slots[slot].state = mq::ClaimState::kClaimed;
  }
  mq::seal_table(table);
  return table;
}

}  // namespace

TEST(MmapGroupTable, AcceptsATilingAndRefusesGapsOverlapsAndDamage) {
  std::string why;
  const auto good = table_of({{at(0), at(64)}, {at(64), at(128)}}, at(0), at(128));
  EXPECT_TRUE(mq::table_valid(good, at(0), at(4096), kSegment, why)) << why;
  EXPECT_FALSE(mq::table_valid(good, at(64), at(4096), kSegment, why)) << "another watermark";
  const auto gap = table_of({{at(0), at(64)}, {at(72), at(128)}}, at(0), at(128));
  EXPECT_FALSE(mq::table_valid(gap, at(0), at(4096), kSegment, why));
  const auto overlap = table_of({{at(0), at(72)}, {at(64), at(128)}}, at(0), at(136));
  EXPECT_FALSE(mq::table_valid(overlap, at(0), at(4096), kSegment, why));
  const auto short_of = table_of({{at(0), at(64)}}, at(0), at(128));
  EXPECT_FALSE(mq::table_valid(short_of, at(0), at(4096), kSegment, why));
  const auto unaligned = table_of({{at(0), at(61)}}, at(0), at(61));
  EXPECT_FALSE(mq::table_valid(unaligned, at(0), at(4096), kSegment, why));
  EXPECT_FALSE(mq::table_valid(good, at(0), at(64), kSegment, why)) << "frontier past the limit";
  auto flipped = good;
  flipped.slots[0].lease_until ^= 1;
  EXPECT_FALSE(mq::table_valid(flipped, at(0), at(4096), kSegment, why)) << "CRC";
  mq::GroupTable never{};
  EXPECT_FALSE(mq::table_valid(never, at(0), at(4096), kSegment, why));
  EXPECT_TRUE(why.empty()) << "a table never written is not damage";
}

TEST(MmapGroupTable, WatermarkMovesOnlyOverCommittedRangesAtItsBottom) {
  auto table = table_of({{at(0), at(64)}, {at(64), at(128)}, {at(128), at(192)}}, at(0), at(192));
  table.slots[1].state = mq::ClaimState::kCommitted;
  EXPECT_EQ(mq::advance_watermark(table), at(0)) << "range 0 is not committed";
  table.slots[0].state = mq::ClaimState::kCommitted;
  EXPECT_EQ(mq::advance_watermark(table), at(128));
  EXPECT_EQ(table.used_slots, 3U) << "slot 2 is still claimed";
  table.slots[2].state = mq::ClaimState::kCommitted;
  EXPECT_EQ(mq::advance_watermark(table), at(192));
  EXPECT_EQ(table.used_slots, 0U);
}

TEST(MmapGroupMember, CommittedPositionWaitsForTheLowestUncommittedRange) {
  TempDir dir;
  Fixture fixture(dir, 20);
  auto first = fixture.join();
  auto second = fixture.join();
  mq::LogReader first_reader(fixture.log, fixture.log->earliest());
  mq::LogReader second_reader(fixture.log, fixture.log->earliest());
  EXPECT_EQ(claim_all(first, first_reader, 10), numbers(0, 10));
  EXPECT_EQ(claim_all(second, second_reader, 10), numbers(10, 20));
  ASSERT_TRUE(second.commit(std::chrono::steady_clock::now() + 1s).has_value());
  EXPECT_EQ(mq::lowest_committed(fixture.log->groups()), fixture.log->earliest())
      << "records 0..9 are not committed: retention must keep them";
  ASSERT_TRUE(first.commit(std::chrono::steady_clock::now() + 1s).has_value());
  EXPECT_EQ(mq::lowest_committed(fixture.log->groups()), fixture.log->latest());
  EXPECT_TRUE(claim_all(first, first_reader).empty());
}

TEST(MmapGroupMember, EveryBitFlipOfTheClaimTableIsRebuiltAtTheWatermarkLosingNothing) {
  TempDir dir;
  Fixture fixture(dir, 50);
  const std::string path = dir.str() + "/t/groups/g";
  std::uint32_t used_bytes = 0;
  {
    auto member = fixture.join();
    mq::LogReader reader(fixture.log, fixture.log->earliest());
    ASSERT_EQ(claim_all(member, reader, 10), numbers(0, 10));
    ASSERT_TRUE(member.commit(std::chrono::steady_clock::now() + 1s).has_value());
    ASSERT_EQ(claim_all(member, reader, 10), numbers(10, 20));  // Held, uncommitted.
    auto other = fixture.join();
    mq::LogReader other_reader(fixture.log, fixture.log->earliest());
    ASSERT_EQ(claim_all(other, other_reader, 5), numbers(20, 25));
    mq::GroupTable table;
    std::ifstream(path, std::ios::binary)
        .seekg(mq::kGroupTableOffset)
        .read(reinterpret_cast<char*>(&table), sizeof table);
    used_bytes = offsetof(mq::GroupTable, slots) + table.used_slots * sizeof(mq::ClaimSlot);
    ASSERT_EQ(table.used_slots, 2U);
  }  // Both leave: their ranges are released.
  std::string pristine;
  {
    std::ifstream in(path, std::ios::binary);
    pristine.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GE(pristine.size(), mq::kGroupTableOffset + used_bytes);
  const auto expected = numbers(10, 50);
  std::size_t rebuilt = 0;
  for (std::uint32_t bit = 0; bit < used_bytes * 8; ++bit) {
    std::string damaged = pristine;
    damaged[mq::kGroupTableOffset + bit / 8] ^= static_cast<char>(1 << (bit % 8));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    auto member = fixture.join();
    mq::LogReader reader(fixture.log, fixture.log->earliest());
    const auto got = claim_all(member, reader);
    ASSERT_EQ(std::set<std::string>(got.begin(), got.end()),
              std::set<std::string>(expected.begin(), expected.end()))
        << "bit " << bit;
    rebuilt += member.repairs();
    // Not committed: the next round starts from the same damage-free state.
  }
  EXPECT_EQ(rebuilt, used_bytes * 8U) << "every flip is seen (the CRC covers the used table)";
}

TEST(MmapGroupMember, GarbageOrTruncatedGroupFileRestartsTheGroupWithoutACrash) {
  TempDir dir;
  Fixture fixture(dir, 30);
  const std::string path = dir.str() + "/t/groups/g";
  {
    auto member = fixture.join();
    mq::LogReader reader(fixture.log, fixture.log->earliest());
    ASSERT_EQ(claim_all(member, reader, 10), numbers(0, 10));
    ASSERT_TRUE(member.commit(std::chrono::steady_clock::now() + 1s).has_value());
  }
  for (const std::size_t size :
       {std::size_t{0}, std::size_t{7}, std::size_t{4100}, std::size_t{9000}}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(size, '\xA5');
    auto member = fixture.join();
    mq::LogReader reader(fixture.log, fixture.log->earliest());
    // The cursor is unreadable: the group restarts at its offset_reset (earliest), so
    // nothing is skipped.
    EXPECT_EQ(claim_all(member, reader), numbers(0, 30)) << size << " bytes of garbage";
    ASSERT_TRUE(member.commit(std::chrono::steady_clock::now() + 1s).has_value());
    EXPECT_TRUE(claim_all(member, reader).empty());
  }
}

// Found by the random-kill attack: a member killed between a commit's two writes (the
// table, then the cursor) left them disagreeing; rebuilding the table then handed out every
// live member's claims again.
TEST(MmapGroupMember, CommitKilledBetweenItsTwoWritesRollsTheCursorForwardAndRedeliversNothing) {
  TempDir dir;
  Fixture fixture(dir, 30);
  auto first = fixture.join();
  auto second = fixture.join();
  mq::LogReader first_reader(fixture.log, fixture.log->earliest());
  mq::LogReader second_reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(first, first_reader, 10), numbers(0, 10));
  ASSERT_EQ(claim_all(second, second_reader, 10), numbers(10, 20));  // Held by a live member.
  const auto before = fixture.log->earliest();
  ASSERT_TRUE(first.commit(std::chrono::steady_clock::now() + 1s).has_value());
  // As if `first` died after writing the table and before the cursor: the cursor is old.
  auto cursor = mlops::testing::open_cursor(*fixture.log, "g");
  ASSERT_TRUE(cursor.has_value());
  const auto moved = cursor->committed();
  ASSERT_TRUE(moved.has_value());
  ASSERT_GT(*moved, before);
  ASSERT_TRUE(cursor->commit(before, false).has_value());
  auto third = fixture.join();
  mq::LogReader third_reader(fixture.log, fixture.log->earliest());
  EXPECT_EQ(claim_all(third, third_reader), numbers(20, 30)) << "another member's claim came again";
  EXPECT_EQ(third.repairs(), 0U);
  EXPECT_EQ(cursor->committed(), moved) << "the cursor was not rolled forward to the table";
  ASSERT_TRUE(second.commit(std::chrono::steady_clock::now() + 1s).has_value());
  ASSERT_TRUE(third.commit(std::chrono::steady_clock::now() + 1s).has_value());
  EXPECT_EQ(mq::lowest_committed(fixture.log->groups()), fixture.log->latest());
}

// Issue 13, fault 2 (attack hol.cpp): committed ranges above a held uncommitted one kept a
// slot each, so after kGroupSlots commits the whole group stalled behind the held one.
TEST(MmapGroupTable, AdjacentCommittedRangesShareOneSlot) {
  auto table = table_of({{at(0), at(64)}, {at(64), at(128)}, {at(128), at(192)}}, at(0), at(192));
  table.slots[1].state = mq::ClaimState::kCommitted;
  table.slots[2].state = mq::ClaimState::kCommitted;
  EXPECT_EQ(mq::advance_watermark(table), at(0)) << "range 0 is not committed";
  EXPECT_EQ(table.used_slots, 2U) << "ranges 1 and 2 are one committed range";
  std::string why;
  mq::seal_table(table);
  EXPECT_TRUE(mq::table_valid(table, at(0), at(4096), kSegment, why)) << why;
}

TEST(MmapGroupMember, FullClaimTableOfCommitsAboveAHeldRangeStallsNoOne) {
  TempDir dir;
  const int records = static_cast<int>(mq::kGroupSlots) * 3;
  Fixture fixture(dir, records);
  auto slow = fixture.join();
  auto fast = fixture.join();
  mq::LogReader slow_reader(fixture.log, fixture.log->earliest());
  mq::LogReader fast_reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(slow, slow_reader, 1), numbers(0, 1));  // Held, never committed here.
  std::vector<std::string> got;
  for (int i = 1; i < records; ++i) {
    auto one = claim_all(fast, fast_reader, 1);
    ASSERT_EQ(one.size(), 1U) << "stalled after " << got.size() << " claim+commit cycles";
    got.push_back(one[0]);
    ASSERT_TRUE(fast.commit(std::chrono::steady_clock::now() + 1s).has_value());
  }
  EXPECT_EQ(got, numbers(1, records));
}

// Issue 13, fault 2 (attack slotstall.cpp): two live members alternating one-record claims
// and committing only every `batch` records took a new slot per claim; once the table was
// full neither could claim and neither would commit: a deadlock for good.
TEST(MmapGroupMember, FullClaimTableOfInterleavedClaimsDeadlocksNoOne) {
  TempDir dir;
  const int batch = static_cast<int>(mq::kGroupSlots) * 3 / 4;  // Two batches overfill it.
  const int records = batch * 6;
  Fixture fixture(dir, records);
  auto first = fixture.join();
  auto second = fixture.join();
  mq::LogReader first_reader(fixture.log, fixture.log->earliest());
  mq::LogReader second_reader(fixture.log, fixture.log->earliest());
  struct Side {
    mq::GroupMember* member;
    mq::LogReader* reader;
    int uncommitted = 0;
  };
  std::array<Side, 2> sides{Side{&first, &first_reader}, Side{&second, &second_reader}};
  std::multiset<std::string> got;
  int empty_rounds = 0;
  while (static_cast<int>(got.size()) < records && empty_rounds < records) {
    bool any = false;
    for (auto& side : sides) {
      for (const auto& text : claim_all(*side.member, *side.reader, 1)) {
        got.insert(text);
        any = true;
        if (++side.uncommitted == batch) {
          ASSERT_TRUE(side.member->commit(std::chrono::steady_clock::now() + 1s).has_value());
          side.uncommitted = 0;
        }
      }
    }
    empty_rounds = any ? 0 : empty_rounds + 1;
  }
  ASSERT_EQ(static_cast<int>(got.size()), records) << "the group stalled for good";
  for (auto& side : sides)
    ASSERT_TRUE(side.member->commit(std::chrono::steady_clock::now() + 1s).has_value());
  const auto all = numbers(0, records);
  EXPECT_EQ(got, std::multiset<std::string>(all.begin(), all.end()));
  EXPECT_EQ(mq::lowest_committed(fixture.log->groups()), fixture.log->latest());
}

// Issue 13, fault 1 (attack slots.cpp): committing part of a range in a full table
// returned success and marked nothing; leaving then handed the committed part out again.
TEST(MmapGroupMember, CommitOfAPartRangeInAFullTableCommitsOrSaysSo) {
  TempDir dir;
  const int first_range = 100;
  const int fillers = static_cast<int>(mq::kGroupSlots);
  const int part = 10;
  Fixture fixture(dir, first_range + fillers - 1);  // The fillers take the rest.
  auto holder = fixture.join();
  auto filler = fixture.join();
  mq::LogReader holder_reader(fixture.log, fixture.log->earliest());
  mq::LogReader filler_reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(holder, holder_reader, first_range), numbers(0, first_range));
  for (int i = 0; i < fillers - 1; ++i) {
    ASSERT_EQ(claim_all(filler, filler_reader, 1).size(), 1U);
    ASSERT_TRUE(filler.commit(std::chrono::steady_clock::now() + 1s).has_value());
  }
  holder.leave();  // Its range is released whole.
  auto taker = fixture.join();
  mq::LogReader taker_reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(taker, taker_reader, part), numbers(0, part));
  const auto committed = taker.commit(std::chrono::steady_clock::now() + 1s);
  taker.leave();
  auto last = fixture.join();
  mq::LogReader last_reader(fixture.log, fixture.log->earliest());
  const auto again = claim_all(last, last_reader, first_range);
  if (committed.has_value()) {
    EXPECT_EQ(again, numbers(part, first_range)) << "commit said kOk but committed nothing";
  } else {
    EXPECT_EQ(again, numbers(0, first_range)) << "an error, yet something was committed";
  }
  EXPECT_TRUE(committed.has_value()) << "the table has room once committed ranges merge";
}

// Issue 13, fault 4 (attack stale.cpp): a sound table behind the cursor was rebuilt empty,
// handing out again other members' committed ranges and live members' claims.
TEST(MmapGroupMember, TableBehindTheCursorRollsForwardKeepingEveryoneElsesRanges) {
  TempDir dir;
  Fixture fixture(dir, 40);
  auto first = fixture.join();
  auto live = fixture.join();
  auto done = fixture.join();
  mq::LogReader first_reader(fixture.log, fixture.log->earliest());
  mq::LogReader live_reader(fixture.log, fixture.log->earliest());
  mq::LogReader done_reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(first, first_reader, 10), numbers(0, 10));
  ASSERT_EQ(claim_all(live, live_reader, 10), numbers(10, 20));
  ASSERT_EQ(claim_all(done, done_reader, 10), numbers(20, 30));
  ASSERT_TRUE(done.commit(std::chrono::steady_clock::now() + 1s).has_value());
  // The cursor alone moves over the first range (as a cursor written without its table).
  mq::LogReader scan(fixture.log, fixture.log->earliest());
  mq::LogRecord record;
  for (int i = 0; i <= 10; ++i) ASSERT_TRUE(scan.next(record));
  auto cursor = mlops::testing::open_cursor(*fixture.log, "g");
  ASSERT_TRUE(cursor.has_value());
  ASSERT_TRUE(cursor->commit(record.position, false).has_value());
  auto next = fixture.join();
  mq::LogReader next_reader(fixture.log, fixture.log->earliest());
  EXPECT_EQ(claim_all(next, next_reader), numbers(30, 40))
      << "committed or live ranges were handed out again";
  EXPECT_EQ(next.repairs(), 0U);
  EXPECT_TRUE(claim_all(live, live_reader).empty());
  ASSERT_TRUE(live.commit(std::chrono::steady_clock::now() + 1s).has_value());
  ASSERT_TRUE(next.commit(std::chrono::steady_clock::now() + 1s).has_value());
  EXPECT_EQ(mq::lowest_committed(fixture.log->groups()), fixture.log->latest());
}

// Issue 13, fault 5: a claim table zeroed (or the file truncated to its cursor page) under
// running members was rebuilt as if never written: no warning, no repair counted.
TEST(MmapGroupMember, ClaimTableZeroedUnderAMemberIsReportedAsARepair) {
  TempDir dir;
  Fixture fixture(dir, 20);
  const std::string path = dir.str() + "/t/groups/g";
  auto member = fixture.join();
  mq::LogReader reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(member, reader, 10), numbers(0, 10));
  std::filesystem::resize_file(path, mq::kGroupTableOffset);  // The table's page is gone.
  EXPECT_EQ(claim_all(member, reader), numbers(0, 20)) << "rebuilt: the uncommitted come again";
  EXPECT_EQ(member.repairs(), 1U) << "a wiped table was taken for one never written";
}

// Issue 13, fault 5 (attack symlinkgrp.cpp): a group file deleted and made again by a new
// member split the group: the old member kept using the orphaned file.
TEST(MmapGroupMember, ReplacedGroupFileIsFollowedNotSplitIntoTwoGroups) {
  TempDir dir;
  Fixture fixture(dir, 20);
  const std::string path = dir.str() + "/t/groups/g";
  auto old_member = fixture.join();
  mq::LogReader old_reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(old_member, old_reader, 10), numbers(0, 10));
  ASSERT_TRUE(old_member.commit(std::chrono::steady_clock::now() + 1s).has_value());
  ASSERT_TRUE(std::filesystem::remove(path));
  auto new_member = fixture.join();  // Makes the file again: the group restarts at the start.
  mq::LogReader new_reader(fixture.log, fixture.log->earliest());
  ASSERT_EQ(claim_all(new_member, new_reader, 5), numbers(0, 5));
  EXPECT_EQ(claim_all(old_member, old_reader), numbers(5, 20))
      << "the old member read on in the orphaned file: two groups";
  EXPECT_EQ(old_member.repairs(), 1U);
}
