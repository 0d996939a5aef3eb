#include "orchestration/replay_skip.h"

#include <algorithm>

namespace mlops::orchestration::detail {

void ReplaySkips::start(std::string_view topic, const Position& position) {
  stop(topic);
  skips_.push_back(Skip{std::string(topic), position, {}});
}

void ReplaySkips::stop(std::string_view topic) noexcept {
  std::erase_if(skips_, [&](const Skip& skip) { return skip.topic == topic; });
}

void ReplaySkips::keep_only(std::span<const std::string> topics) noexcept {
  std::erase_if(skips_, [&](const Skip& skip) {
    return std::find(topics.begin(), topics.end(), skip.topic) == topics.end();
  });
}

bool ReplaySkips::pass_over(const messaging::MLOpsMessage& message, std::string_view topic,
                            std::int32_t partition) noexcept {
  auto skip = std::find_if(skips_.begin(), skips_.end(),
                           [&](const Skip& candidate) { return candidate.topic == topic; });
  if (skip == skips_.end()) return false;
  if (std::find(skip->done.begin(), skip->done.end(), partition) != skip->done.end()) return false;
  bool before = false;  // the message comes before the replay's start
  bool ends = true;     // the replay starts after (or at) it
  if (skip->position.kind() == Position::Kind::kTime) {
    // A message without a timestamp cannot be placed: it starts the replay.
    const auto stamp = message.timestamp();
    before = stamp && *stamp < skip->position.time_ns();
    ends = !before;
  } else {
    const auto id = message.id();
    if (id && *id < skip->position.id()) {
      before = true;
      ends = false;
    } else if (id && *id == skip->position.id()) {
      before = true;  // the message itself is passed over; the replay starts after it
    }
  }
  if (ends) {
    try {
      skip->done.push_back(partition);
    } catch (...) {  // out of memory: the skip stays on, later messages are placed again
    }
  }
  return before;
}

}  // namespace mlops::orchestration::detail
