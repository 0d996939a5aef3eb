#pragma once
// A producer on an mmap queue: one LogWriter per topic it has sent to.

#include <map>
#include <memory>
#include <string>

#include "orchestration/backend.h"
#include "orchestration/log_limiter.h"
#include "orchestration/mmap/log_writer.h"
#include "orchestration/mmap/queue.h"

namespace mlops::orchestration::detail::mmap {

/// send() returns once the record is published in the shared mapping: from then on a crash
/// of any process cannot lose it. flush() writes it to disk (msync) so power loss cannot.
class MmapProducer final : public detail::ProducerBackend {
 public:
  MmapProducer(std::shared_ptr<Queue> queue, QueueSettings settings, ProducerOptions options)
      : queue_(std::move(queue)), settings_(settings), options_(std::move(options)) {}

  /// One thread at a time: each LogWriter is one thread's and flush() must sync every
  /// writer, so sharing would take a lock on every append: 5-7 ns uncontended, measured
  /// beside an inproc send (bench/producer_sharing_bench.cpp), over 5% of the ~80 ns an
  /// append takes on a quiet machine (bench/RESULTS.md).
  bool shareable() const noexcept override { return false; }
  Status send(std::string_view topic, const messaging::MLOpsMessage& message) noexcept override;
  Status send_raw(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept override;
  Status flush(detail::Deadline deadline) noexcept override;
  void close() noexcept override;

 private:
  Status append(std::string_view topic, std::span<const std::uint8_t> bytes) noexcept;
  LogWriter* writer_for(std::string_view topic);

  std::shared_ptr<Queue> queue_;
  QueueSettings settings_;
  ProducerOptions options_;
  std::map<std::string, LogWriter, std::less<>> writers_;
  // The last topic sent to: most producers send to one topic, so most sends skip the map.
  std::string_view last_topic_;
  LogWriter* last_writer_ = nullptr;
  // Backend failures (disk full, damaged files): a burst, then one line per interval.
  orchestration::detail::LogLimiter problems_{LogLevel::kError, "mmap producer"};
};

}  // namespace mlops::orchestration::detail::mmap
