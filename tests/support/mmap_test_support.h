#pragma once
// A fresh queue directory per test, and small helpers to open logs in it.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "orchestration/mmap/group_cursor.h"
#include "orchestration/mmap/log_reader.h"
#include "orchestration/mmap/queue.h"

namespace mlops::testing {

namespace mq = mlops::orchestration::detail::mmap;

/// A temporary directory removed after the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        std::filesystem::temp_directory_path() / ("mlops-mmap-" + std::to_string(::getpid()) + "-" +
                                                  info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] std::string str() const { return path_.string(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// A folder for queues that many rounds open and damage: on tmpfs when there is one (the
/// real msyncs then cost nothing; what counts as durable is the test's own record).
inline std::filesystem::path scratch_root(const std::string& prefix) {
  const std::filesystem::path shm = "/dev/shm";
  const auto base = std::filesystem::exists(shm) && ::access(shm.c_str(), W_OK) == 0
                        ? shm
                        : std::filesystem::temp_directory_path();
  return base / (prefix + "-" + std::to_string(::getpid()));
}

/// Settings for tests: small segments so rolling happens often.
inline mq::QueueSettings small_segments(std::uint64_t segment_bytes = 4096) {
  mq::QueueSettings settings;
  settings.log.segment_bytes = segment_bytes;
  settings.log.populate = false;
  settings.log.pending_timeout = std::chrono::milliseconds(200);
  return settings;
}

/// Opens `group`'s file (cursor and claim table) in `log`'s topic.
inline Result<mq::GroupCursor> open_cursor(const mq::TopicLog& log, const std::string& group) {
  return mq::GroupCursor::open(log.groups(), group, log.modes(), false);
}

/// Reads every record `reader` can reach now. A read that stops early (a claim whose
/// writer's fate is not known yet) is tried again until `deadline`, so a dead writer's
/// claim is stepped over rather than taken for the end.
template <typename Visit>
void read_available(mq::LogReader& reader, Visit visit,
                    std::chrono::steady_clock::duration deadline = std::chrono::seconds(10)) {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  mq::LogRecord record;
  for (;;) {
    while (reader.next(record)) visit(record);
    if (!reader.stopped_early() || std::chrono::steady_clock::now() >= give_up) return;
  }
}

inline std::span<const std::uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline std::string as_text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace mlops::testing
