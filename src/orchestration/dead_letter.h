#pragma once
// Dead letters and retry copies: the topics they go to, the copies themselves, and the
// producer a Consumer sends them with.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/status.h"
#include "orchestration/backend.h"

namespace mlops::orchestration::detail {

/// Additional arguments a dead letter carries.
inline constexpr std::string_view kDlqReason = "mlops.dlq_reason";
inline constexpr std::string_view kDlqTopic = "mlops.dlq_topic";
inline constexpr std::string_view kDlqTime = "mlops.dlq_time_ns";
/// Additional arguments a retry copy carries.
inline constexpr std::string_view kRetryReason = "mlops.retry_reason";
inline constexpr std::string_view kRetryDue = "mlops.retry_due_ns";
inline constexpr std::string_view kRetryTopic = "mlops.retry_topic";
inline constexpr std::string_view kRetryGroup = "mlops.retry_group";

inline constexpr std::string_view kDlqSuffix = ".dlq";
inline constexpr std::string_view kRetrySuffix = ".retry";

/// `topic` + `suffix`; empty when that is not a valid topic name (too long).
std::string suffixed_topic(std::string_view topic, std::string_view suffix);

/// A copy of `message` for the dead-letter topic of `topic`, with the reason, the topic and
/// the time. Throws std::bad_alloc (callers turn it into kError).
messaging::MLOpsMessage make_dead_letter(const messaging::MLOpsMessage& message,
                                         std::string_view topic, std::string_view reason);

/// A copy of `message` with retries + 1 and the reason, due at `due_unix_ns`, for `group`'s
/// members reading `topic`. Throws std::bad_alloc.
messaging::MLOpsMessage make_retry_copy(const messaging::MLOpsMessage& message,
                                        std::string_view topic, std::string_view group,
                                        std::string_view reason, std::int64_t due_unix_ns);

/// A producer made on first use; each send waits until the backend holds the message as
/// durably as it promises (a flush), since the caller marks the original processed next.
/// Called from the Consumer's thread only.
class SideProducer {
 public:
  explicit SideProducer(std::shared_ptr<Backend> backend) noexcept;
  ~SideProducer();
  SideProducer(const SideProducer&) = delete;
  SideProducer& operator=(const SideProducer&) = delete;
  /// Sends and flushes. @return kOk, or the producer's failure (kError when it cannot be made).
  Status send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept;
  /// As send(), for raw bytes.
  Status send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept;
  void close() noexcept;

 private:
  ProducerBackend* get() noexcept;
  Status flush() noexcept;
  std::shared_ptr<Backend> backend_;
  std::unique_ptr<ProducerBackend> producer_;
};

}  // namespace mlops::orchestration::detail
