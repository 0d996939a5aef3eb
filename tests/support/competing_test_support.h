#pragma once
// Helpers for tests with member processes: forking, exit codes, numbered messages, and a
// Tally in shared memory that every forked member records its deliveries into.

#include <gtest/gtest.h>
#include <mlops/orchestration.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace mlops::testing {

/// Forks `body` as a child process; the child's exit code is what body returns.
template <typename Body>
pid_t fork_child(Body body) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(body());
  return child;
}

/// The child's exit code, or 128 + the signal that ended it.
inline int wait_exit_code(pid_t child) {
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline messaging::MLOpsMessage numbered(std::int64_t n) {
  return messaging::MessageBuilder()
      .with_msg_type(messaging::MessageType::INPROGRESS)
      .with_user_msg("message " + std::to_string(n))
      .with_additional_argument("n", n)
      .build();
}

inline std::int64_t number_of(const messaging::MLOpsMessage& msg) {
  return msg.additional_argument("n")->as_int().value_or(-1);
}

/// Deliveries of messages 0..count-1 to member slots 0..members-1, in an anonymous shared
/// mapping made before the members fork: every process sees one tally. Lock-free.
class Tally {
 public:
  Tally(std::size_t count, std::size_t members)
      : count_(count), members_(members), words_((count + 63) / 64) {
    bytes_ = sizeof(Shared) + sizeof(std::atomic<std::uint32_t>) * count * 3 +
             sizeof(std::atomic<std::uint64_t>) * words_ * members +
             sizeof(std::atomic<std::uint64_t>) * members;
    void* memory =
        ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) std::abort();
    shared_ = static_cast<Shared*>(memory);  // Zero-filled: every count starts at 0.
    counts_ = reinterpret_cast<std::atomic<std::uint32_t>*>(shared_ + 1);
    released_ = counts_ + count;
    live_ = released_ + count;
    bits_ = reinterpret_cast<std::atomic<std::uint64_t>*>(live_ + count);
    per_member_ = bits_ + words_ * members;
  }
  Tally(const Tally&) = delete;
  Tally& operator=(const Tally&) = delete;
  ~Tally() { ::munmap(shared_, bytes_); }

  /// Member `member` received message `n`. With `settles` false it does not count toward
  /// all_seen (a member about to be killed or stalled: its messages must come again).
  void record(std::size_t member, std::int64_t n, bool settles = true) {
    if (n < 0 || static_cast<std::size_t>(n) >= count_ || member >= members_) {
      shared_->bad.fetch_add(1);
      return;
    }
    const auto i = static_cast<std::size_t>(n);
    counts_[i].fetch_add(1);
    per_member_[member].fetch_add(1);
    bits_[member * words_ + i / 64].fetch_or(std::uint64_t{1} << (i % 64));
    if (settles && live_[i].fetch_add(1) == 0) shared_->settled.fetch_add(1);
  }
  /// A member closed without committing message `n`: it is expected once more.
  void release(std::int64_t n) {
    const auto i = static_cast<std::size_t>(n);
    released_[i].fetch_add(1);
    if (live_[i].fetch_sub(1) == 1) shared_->settled.fetch_sub(1);
  }
  /// Whether every message has a delivery that was not released.
  [[nodiscard]] bool all_seen() const { return shared_->settled.load() == count_; }
  /// Members stop when the test says so (stop()), not when they think they are done.
  void stop() { shared_->stop.store(1); }
  [[nodiscard]] bool stopped() const { return shared_->stop.load() != 0; }
  /// Waits until all_seen() or `timeout` (polling the shared tally every millisecond).
  [[nodiscard]] bool wait_all_seen(std::chrono::milliseconds timeout) const {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (!all_seen()) {
      if (std::chrono::steady_clock::now() >= give_up) return false;
      ::usleep(1000);
    }
    return true;
  }

  [[nodiscard]] std::uint32_t count(std::int64_t n) const {
    return counts_[static_cast<std::size_t>(n)].load();
  }
  [[nodiscard]] std::uint32_t released(std::int64_t n) const {
    return released_[static_cast<std::size_t>(n)].load();
  }
  [[nodiscard]] bool got(std::size_t member, std::int64_t n) const {
    if (n < 0 || static_cast<std::size_t>(n) >= count_) return false;
    const auto i = static_cast<std::size_t>(n);
    return (bits_[member * words_ + i / 64].load() >> (i % 64) & 1) != 0;
  }
  /// Deliveries member `member` has recorded so far (cheap: one counter).
  [[nodiscard]] std::uint64_t deliveries_to(std::size_t member) const {
    return per_member_[member].load();
  }
  [[nodiscard]] std::size_t received_by(std::size_t member) const {
    std::size_t total = 0;
    for (std::size_t n = 0; n < count_; ++n)
      total += got(member, static_cast<std::int64_t>(n)) ? 1 : 0;
    return total;
  }
  /// Deliveries of numbers outside 0..count-1 (or to unknown members): always a failure.
  [[nodiscard]] std::uint32_t bad() const { return shared_->bad.load(); }

 private:
  struct Shared {
    std::atomic<std::size_t> settled;
    std::atomic<std::uint32_t> stop;
    std::atomic<std::uint32_t> bad;
  };
  std::size_t count_;
  std::size_t members_;
  std::size_t words_;
  std::size_t bytes_ = 0;
  Shared* shared_ = nullptr;
  std::atomic<std::uint32_t>* counts_ = nullptr;
  std::atomic<std::uint32_t>* released_ = nullptr;
  std::atomic<std::uint32_t>* live_ = nullptr;
  std::atomic<std::uint64_t>* bits_ = nullptr;
  std::atomic<std::uint64_t>* per_member_ = nullptr;
};

}  // namespace mlops::testing
