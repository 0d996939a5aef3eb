#pragma once
/// \file Status: the outcome of a hot-path orchestration call (send, flush, receive, commit).

#include <cstdint>
#include <string_view>

#include "mlops/export.h"

namespace mlops::orchestration {

/// The outcome of a hot-path call. Back-pressure and timeouts are normal control flow,
/// never exceptions. Each call's documentation lists the values it returns.
///
/// For a message sent, three answers are possible and each status gives one of them:
/// held (kOk), not held (every other value but kDeliveryUnknown: resending cannot make a
/// duplicate), or not known (kDeliveryUnknown: it was handed over and may still arrive, so
/// resending blindly may make a duplicate; its delivery report, if one is due, tells).
enum class Status : std::uint8_t {
  kOk,               ///< Done.
  kBackPressured,    ///< No room now (policy BackPressure::kReturn); nothing sent; try again later.
  kTimeout,          ///< A wait reached its deadline: no room (nothing sent), nothing to receive,
                     ///< a flush not done, or a message given up unsent (message.timeout.ms).
  kClosed,           ///< The producer or consumer was closed; a message reported so was never sent.
  kTooLarge,         ///< The message can never fit (larger than the topic's byte limit).
  kInvalidTopic,     ///< A topic name does not match ^[A-Za-z0-9._-]{1,249}$.
  kNoTopic,          ///< Neither the message nor the producer (or consumer) names a topic.
  kError,            ///< The backend failed; the log hook says why.
  kDeliveryUnknown,  ///< Sent, but not confirmed held: it may or may not arrive (see above).
};

/// Readable name of a Status, e.g. "back_pressured".
MLOPS_EXPORT std::string_view to_string(Status status) noexcept;

}  // namespace mlops::orchestration
