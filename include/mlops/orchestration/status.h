#pragma once
/// \file Status: the outcome of a hot-path orchestration call (send, flush, receive, commit).

#include <cstdint>
#include <string_view>

namespace mlops::orchestration {

/// The outcome of a hot-path call. Back-pressure and timeouts are normal control flow,
/// never exceptions. Each call's documentation lists the values it returns.
enum class Status : std::uint8_t {
  kOk,             ///< Done.
  kBackPressured,  ///< No room now (policy BackPressure::kReturn); try again later.
  kTimeout,        ///< A wait reached its deadline (no room, nothing to receive, flush pending).
  kClosed,         ///< The producer or consumer was closed.
  kTooLarge,       ///< The message can never fit (larger than the topic's byte limit).
  kInvalidTopic,   ///< A topic name does not match ^[A-Za-z0-9._-]{1,249}$.
  kNoTopic,        ///< Neither the message nor the producer (or consumer) names a topic.
  kError,          ///< The backend failed; the log hook says why.
};

/// Readable name of a Status, e.g. "back_pressured".
std::string_view to_string(Status status) noexcept;

}  // namespace mlops::orchestration
