#pragma once
// A topic's log: entries at consecutive offsets in a ring sized for the topic's message
// limit. Each slot carries the offset it was last published at, so readers need no lock
// to see whether an entry is there. Slots live in fixed chunks, allocated the first time
// a producer reaches them and kept until the topic goes, so a slot never moves and never
// disappears under a reader, and a topic in steady state allocates nothing.

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "orchestration/inproc/entry.h"

namespace mlops::orchestration::detail::inproc {

/// The most messages one inproc topic may be limited to.
inline constexpr std::size_t kMaxTopicMessages = std::size_t{1} << 24;

/// One cache line, so that a producer writing one slot and a consumer reading its
/// neighbour do not fight over a line.
struct alignas(64) Slot {
  /// offset + 1 once the entry at `offset` may be read (release by the producer, acquire
  /// by readers); an older lap's value until then.
  std::atomic<std::uint64_t> published{0};
  Entry entry;
};
static_assert(sizeof(Slot) == 64, "inproc: a slot is one cache line");

class SlotRing {
 public:
  static constexpr std::size_t kChunk = 256;

  /// A ring for at most `max_entries` (at most kMaxTopicMessages) entries.
  explicit SlotRing(std::size_t max_entries)
      : mask_(std::bit_ceil(std::max(max_entries, kChunk)) - 1),
        chunks_(std::make_unique<std::atomic<Slot*>[]>((mask_ + 1) / kChunk)) {
    assert(max_entries <= kMaxTopicMessages && "SlotRing: too many entries");
  }
  SlotRing(const SlotRing&) = delete;
  SlotRing& operator=(const SlotRing&) = delete;
  ~SlotRing() {
    for (std::size_t i = 0; i < (mask_ + 1) / kChunk; ++i) delete[] chunks_[i].load();
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

  /// The slot for `offset`, or nullptr when no producer has reached its chunk yet.
  [[nodiscard]] Slot* find(std::uint64_t offset) const noexcept {
    const auto slot = offset & mask_;
    Slot* chunk = chunks_[slot / kChunk].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[slot % kChunk];
  }

  /// The slot for `offset`, allocating its chunk if needed; nullptr when out of memory.
  [[nodiscard]] Slot* reach(std::uint64_t offset) noexcept {
    if (Slot* slot = find(offset)) return slot;
    auto& chunk = chunks_[(offset & mask_) / kChunk];
    Slot* fresh = new (std::nothrow) Slot[kChunk];
    if (fresh == nullptr) return nullptr;
    Slot* expected = nullptr;
    if (!chunk.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
      delete[] fresh;  // another producer got there first
      fresh = expected;
    }
    return &fresh[(offset & mask_) % kChunk];
  }

  /// The slot for an offset a producer has claimed (its chunk exists).
  [[nodiscard]] Slot& at(std::uint64_t offset) const noexcept {
    Slot* slot = find(offset);
    assert(slot != nullptr && "SlotRing::at on an offset no producer claimed");
    return *slot;
  }

 private:
  const std::uint64_t mask_;
  std::unique_ptr<std::atomic<Slot*>[]> chunks_;
};

}  // namespace mlops::orchestration::detail::inproc
