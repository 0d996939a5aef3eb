#pragma once
/// \file TopicOptions: what Admin::create_topic() takes.

#include <cstddef>

#include "mlops/export.h"
#include "mlops/orchestration/backend_options.h"

namespace mlops::orchestration {

/// Settings for a new topic; 0 means "the backend's default".
/// inproc: the default limits are 65536 messages and 64 MiB per topic (at most 2^24
/// messages), changed for a whole broker with `inproc://NAME?max_messages=N&max_bytes=B`.
struct MLOPS_EXPORT TopicOptions {
  /// Most messages the topic holds before producers are back-pressured.
  std::size_t max_messages = 0;
  /// Most payload bytes the topic holds before producers are back-pressured; a larger
  /// message is refused with Status::kTooLarge.
  std::size_t max_bytes = 0;
  /// Anything else, passed to the backend (e.g. Kafka's num.partitions).
  BackendOptions backend{};
};

}  // namespace mlops::orchestration
