#pragma once
// A named inproc broker: the topics of one `inproc://NAME`. Brokers live as long as the
// process, so stages that open the same name at different times meet.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/orchestration/topic_options.h"
#include "mlops/result.h"
#include "orchestration/inproc/topic.h"

namespace mlops::orchestration::detail::inproc {

/// Default limits per topic.
inline constexpr std::size_t kDefaultMaxMessages = 65'536;
inline constexpr std::size_t kDefaultMaxBytes = std::size_t{64} << 20;

/// Thread-safety: every call may be made from any thread.
class Broker {
 public:
  Broker(std::string name, Limits defaults) : name_(std::move(name)), defaults_(defaults) {}

  /// The broker called `name`, created with `options` (max_messages, max_bytes) if new.
  /// @return the broker, or kInvalidArgument for a bad name or option value.
  static Result<Broker*> open(std::string_view name, const BackendOptions& options);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Topic `name` (a valid name), created with the broker's default limits if new.
  /// Topics live as long as the broker, so the reference stays valid.
  Topic& topic(std::string_view name);
  /// Creates topic `name` with `options` unless it exists.
  Result<void> create_topic(std::string_view name, const TopicOptions& options);
  /// Topic names, sorted.
  [[nodiscard]] std::vector<std::string> topic_names() const;

 private:
  const std::string name_;
  const Limits defaults_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Topic>, std::less<>> topics_;
};

/// Logs one warning naming the keys of `options` this backend ignores (none are known).
void warn_ignored_options(std::string_view role, const BackendOptions& options);

}  // namespace mlops::orchestration::detail::inproc
