#pragma once
// Helpers shared by the orchestration tests.

#include <gtest/gtest.h>
#include <mlops/orchestration.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mlops::orchestration::testing {

namespace mes = mlops::messaging;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// A name unique in this process, made of the current test's name (valid as a topic).
inline std::string unique_name(std::string_view prefix = "t") {
  static std::atomic<int> counter{0};
  std::string name(prefix);
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += "-";
    name += info->name();
  }
  name += "-" + std::to_string(counter.fetch_add(1));
  for (auto& c : name) {
    if (!is_valid_topic_name(std::string_view(&c, 1))) c = '_';
  }
  return name;
}

/// A message numbered `n` (in retries and the "n" argument), optionally with topics.
inline mes::MLOpsMessage numbered(std::int64_t n, TopicList topics = {}) {
  mes::MessageBuilder builder;
  builder.with_msg_type(mes::MessageType::START)
      .with_creator("test")
      .with_user_msg("message " + std::to_string(n))
      .with_retries(static_cast<std::int32_t>(n))
      .with_additional_argument("n", n);
  if (topics.names().size() == 1) builder.with_topic(std::string_view(topics.names()[0]));
  if (topics.names().size() > 1) builder.with_topic(topics.names());
  return builder.build();
}

/// The number a message from numbered() carries.
inline std::int64_t number_of(const mes::MLOpsMessage& message) {
  const auto value = message.additional_argument("n");
  return value ? value->as_int().value_or(-1) : -1;
}

/// The numbers of `messages`, in order.
inline std::vector<std::int64_t> numbers_of(const std::vector<mes::MLOpsMessage>& messages) {
  std::vector<std::int64_t> numbers;
  for (const auto& message : messages) numbers.push_back(number_of(message));
  return numbers;
}

/// Receives until `count` messages have arrived or `deadline` passes.
inline std::vector<mes::MLOpsMessage> receive_n(Consumer& consumer, std::size_t count,
                                                std::chrono::milliseconds within = 5s) {
  std::vector<mes::MLOpsMessage> all;
  const auto deadline = Clock::now() + within;
  while (all.size() < count && Clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    for (auto& message : consumer.receive({}, std::max(left, 1ms), count - all.size())) {
      all.push_back(std::move(message));
    }
  }
  return all;
}

/// Captures log lines while alive and restores the default handler after.
class LogCapture {
 public:
  LogCapture() {
    set_log_handler([this](LogLevel level, std::string_view text) {
      const std::lock_guard lock(mutex_);
      lines_.push_back({level, std::string(text)});
    });
  }
  ~LogCapture() { set_log_handler({}); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// Lines at `level` whose text contains `needle`.
  std::size_t count(LogLevel level, std::string_view needle) const {
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [line_level, text] : lines_) {
      if (line_level == level && text.find(needle) != std::string::npos) ++n;
    }
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

/// Sets an environment variable for a scope and restores the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace mlops::orchestration::testing
