// Issue 13, fault 3 (attack lockheld.cpp): a receive with auto-commit waited the commit's
// 5 s lock patience for a busy group lock, whatever the receive's own timeout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mlops/orchestration.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "support/competing_test_support.h"
#include "support/mmap_test_support.h"

namespace orc = mlops::orchestration;
using mlops::testing::numbered;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Holds a file's flock from a descriptor of its own (as another member would).
class HeldLock {
 public:
  explicit HeldLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC)) {
    locked_ = fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }
  ~HeldLock() {
    if (fd_ >= 0) ::close(fd_);  // Drops the lock.
  }
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;
  [[nodiscard]] bool locked() const noexcept { return locked_; }

 private:
  int fd_;
  bool locked_ = false;
};

}  // namespace

TEST(MmapGroupDeadline, AutoCommitInAReceiveWaitsNoLongerThanTheReceive) {
  mlops::testing::TempDir dir;
  const std::string uri = "mmap://" + dir.str() + "?segment_bytes=65536&populate=false";
  auto orch = orc::Orchestration::from_uri(uri).value();
  {
    auto producer = orc::Producer::create(orch, "work").value();
    for (int i = 0; i < 4; ++i) ASSERT_EQ(producer.send(numbered(i)), orc::Status::kOk);
    ASSERT_EQ(producer.flush(5s), orc::Status::kOk);
  }
  auto consumer = orc::Consumer::create("work", orch, {.group = "g"}).value();
  ASSERT_EQ(consumer.receive({}, 1s, 1).size(), 1U);  // Uncommitted: the next receive commits.
  const HeldLock held((dir.path() / "work" / "groups" / "g").string());
  ASSERT_TRUE(held.locked());
  const auto timeout = 20ms;
  // However slow the machine, far below the 5 s the commit used to wait.
  const auto allowed = timeout + 1s;
  const auto start = Clock::now();
  const auto got = consumer.receive({}, timeout, 1);
  const auto took = Clock::now() - start;
  EXPECT_TRUE(got.empty()) << "the group's lock is held: nothing can be claimed";
  EXPECT_LT(took, allowed) << "receive took "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                           << " ms with a " << timeout.count() << " ms timeout";
}
