#pragma once
/// \file Position: where Consumer::seek() moves a consumer group in a topic (replay).

#include <chrono>
#include <cstdint>

#include "mlops/export.h"
#include "mlops/messaging/message_id.h"

namespace mlops::orchestration {

/// A place in a topic for Consumer::seek(): its oldest message still held, past its newest,
/// the first message at or after a time, or the message after a given one.
///
///   consumer.seek("etl-done", Position::at_time(std::chrono::system_clock::now() - 24h));
///
/// Thread-safety: a plain value.
class MLOPS_EXPORT Position {
 public:
  /// What a Position names.
  enum class Kind : std::uint8_t { kEarliest, kLatest, kTime, kAfter };

  /// The oldest message the backend still holds (inproc: the oldest some group has not
  /// committed; mmap, kafka, redis: the oldest retention kept).
  [[nodiscard]] static constexpr Position earliest() noexcept { return Position(Kind::kEarliest); }
  /// Past the newest message: only messages sent afterwards come.
  [[nodiscard]] static constexpr Position latest() noexcept { return Position(Kind::kLatest); }
  /// The first message (in the topic's order; kafka: each partition's) whose timestamp is
  /// at or after `time`. A time before every message held is earliest().
  [[nodiscard]] static Position at_time(std::chrono::system_clock::time_point time) noexcept {
    Position position(Kind::kTime);
    position.time_ns_ =
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
    return position;
  }
  /// The message after the one with id `id` (in the topic's order; kafka: each partition's):
  /// messages up to that one are passed over, and so is any older-id message before it; the
  /// first message with a newer id starts the replay when no message has `id`.
  [[nodiscard]] static constexpr Position after(messaging::MessageId id) noexcept {
    Position position(Kind::kAfter);
    position.id_ = id;
    return position;
  }

  /// What this names.
  [[nodiscard]] constexpr Kind kind() const noexcept { return kind_; }
  /// at_time's time, in ns since the Unix epoch (0 for other kinds).
  [[nodiscard]] constexpr std::int64_t time_ns() const noexcept { return time_ns_; }
  /// after's id (zero for other kinds).
  [[nodiscard]] constexpr messaging::MessageId id() const noexcept { return id_; }

 private:
  explicit constexpr Position(Kind kind) noexcept : kind_(kind) {}
  Kind kind_;
  std::int64_t time_ns_ = 0;
  messaging::MessageId id_{};
};

}  // namespace mlops::orchestration
