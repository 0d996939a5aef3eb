#pragma once
// What Consumer::seek(at_time | after) passes over: the backends move a group only to a
// topic's earliest or latest, so a replay from a time or a message reads from the earliest
// and passes over what comes before its start, per topic and part (kafka partition). Kept
// in the Consumer, so no backend pays for it; receive() asks only while one is running.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/position.h"

namespace mlops::orchestration::detail {

/// One thread at a time (the Consumer's).
class ReplaySkips {
 public:
  /// Passes over `topic`'s messages before `position` (kTime or kAfter) from now on,
  /// instead of any earlier skip there.
  void start(std::string_view topic, const Position& position);
  /// Stops passing over `topic`'s messages.
  void stop(std::string_view topic) noexcept;
  /// Drops the skips of topics not in `topics` (after a subscribe).
  void keep_only(std::span<const std::string> topics) noexcept;
  [[nodiscard]] bool empty() const noexcept { return skips_.empty(); }
  /// Whether `message`, from `partition` of `topic`, comes before its replay's start. The
  /// first message at or past the start ends the skip in its partition.
  [[nodiscard]] bool pass_over(const messaging::MLOpsMessage& message, std::string_view topic,
                               std::int32_t partition) noexcept;

 private:
  struct Skip {
    std::string topic;
    Position position;
    std::vector<std::int32_t> done;  // parts whose replay started
  };
  std::vector<Skip> skips_;
};

}  // namespace mlops::orchestration::detail
