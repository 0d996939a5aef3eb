#pragma once
// A topic's log: entries at consecutive offsets in a ring sized for the topic's message
// limit. Slots live in fixed chunks, allocated when first written and released when
// emptied (one is kept for reuse, so a topic in steady state allocates nothing), and never
// moved, so a consumer can copy entries it has reserved under the topic's lock after
// releasing it.

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "orchestration/inproc/entry.h"

namespace mlops::orchestration::detail::inproc {

/// The most messages one inproc topic may be limited to.
inline constexpr std::size_t kMaxTopicMessages = std::size_t{1} << 24;

class EntryRing {
 public:
  static constexpr std::size_t kChunk = 256;

  /// A ring for at most `max_entries` (at most kMaxTopicMessages) entries.
  explicit EntryRing(std::size_t max_entries)
      : mask_(std::bit_ceil(std::max(max_entries, kChunk)) - 1), chunks_((mask_ + 1) / kChunk) {
    assert(max_entries <= kMaxTopicMessages && "EntryRing: too many entries");
  }

  /// Offset of the oldest entry held (== end() when empty).
  [[nodiscard]] std::uint64_t begin() const noexcept { return begin_; }
  /// Offset the next entry gets.
  [[nodiscard]] std::uint64_t end() const noexcept { return end_; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(end_ - begin_); }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

  /// The entry at `offset`. Needs no lock when the caller has reserved `offset` (it lies in
  /// [begin(), end()) and cannot be dropped meanwhile): slots never move.
  [[nodiscard]] const Entry& at(std::uint64_t offset) const noexcept {
    const auto slot = offset & mask_;
    return chunks_[slot / kChunk][slot % kChunk];
  }

  /// Appends `entry`; size() must be below capacity().
  void push_back(Entry&& entry) {
    assert(size() < capacity() && "EntryRing::push_back on a full ring");
    const auto slot = end_ & mask_;
    auto& chunk = chunks_[slot / kChunk];
    if (!chunk) chunk = spare_ ? std::move(spare_) : std::make_unique<Entry[]>(kChunk);
    chunk[slot % kChunk] = std::move(entry);
    ++end_;
  }

  /// Drops the oldest entry; returns its size in bytes.
  std::size_t pop_front() noexcept {
    assert(begin_ < end_ && "EntryRing::pop_front on an empty ring");
    const auto slot = begin_ & mask_;
    auto& entry = chunks_[slot / kChunk][slot % kChunk];
    const std::size_t size = entry.size;
    entry = Entry{};
    ++begin_;
    // Past the end of a chunk that holds no newer entries either (after a wrap it may):
    // keep it for the writer to reuse, or free it.
    if ((begin_ & mask_) % kChunk == 0 && end_ - begin_ <= capacity() - kChunk) {
      auto& done = chunks_[slot / kChunk];
      if (!spare_) {
        spare_ = std::move(done);
      } else {
        done.reset();
      }
    }
    return size;
  }

 private:
  const std::uint64_t mask_;
  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::unique_ptr<Entry[]> spare_;  // an emptied chunk, so a steady topic allocates nothing
  std::uint64_t begin_ = 0;
  std::uint64_t end_ = 0;
};

}  // namespace mlops::orchestration::detail::inproc
