#pragma once
// What a Producer counts (ProducerStats), added to from any number of threads and read by
// stats() from any thread, without a locked instruction on a single thread's path.

#include <array>
#include <atomic>
#include <cstdint>

#include "mlops/orchestration/producer_options.h"
#include "mlops/orchestration/status.h"
#include "orchestration/thread_token.h"

namespace mlops::orchestration::detail {

/// The first thread to count owns one set of counters and adds to it with a plain load and
/// store; every other thread adds atomically to a second set; get() sums the two. So a
/// shareable producer used by one thread pays nothing for being shareable. Thread-safe.
class SendCounts {
 public:
  /// `shared`: other threads may count too (false: one thread at a time, the owner's set
  /// serves every thread, as a hand-over orders their adds).
  explicit SendCounts(bool shared) noexcept : shared_(shared) {}

  /// Counts one message and topic: sent (kOk), back-pressured (kBackPressured, kTimeout) or
  /// failed (anything else).
  void count(Status status) noexcept {
    add(status == Status::kOk                                            ? kSent
        : status == Status::kBackPressured || status == Status::kTimeout ? kBackPressured
                                                                         : kFailed);
  }
  /// Counts one failed message and topic.
  void count_failed() noexcept { add(kFailed); }
  /// The counts so far.
  [[nodiscard]] ProducerStats get() const noexcept {
    return {sum(kSent), sum(kBackPressured), sum(kFailed)};
  }

 private:
  enum Kind : std::uint8_t { kSent, kBackPressured, kFailed };
  static constexpr std::size_t kCacheLine = 64;
  // Apart, so the owner's plain adds and the others' atomic ones do not share a line.
  struct alignas(kCacheLine) Set {
    std::array<std::atomic<std::uint64_t>, 3> values{};
  };

  void add(Kind kind) noexcept {
    if (shared_) {
      const auto me = this_thread_token();
      auto owner = owner_.load(std::memory_order_relaxed);
      if (owner == 0 && owner_.compare_exchange_strong(owner, me, std::memory_order_relaxed)) {
        owner = me;
      }
      if (owner != me) {
        others_.values[kind].fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    auto& value = owned_.values[kind];
    value.store(value.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t sum(Kind kind) const noexcept {
    return owned_.values[kind].load(std::memory_order_relaxed) +
           others_.values[kind].load(std::memory_order_relaxed);
  }

  const bool shared_;
  std::atomic<std::uintptr_t> owner_{0};  // this_thread_token() of the owner, 0 until one counts
  Set owned_;
  Set others_;
};

}  // namespace mlops::orchestration::detail
