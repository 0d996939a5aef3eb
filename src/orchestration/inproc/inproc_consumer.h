#pragma once
// inproc consumer: a member of one group in each topic it subscribes to; sleeps on one
// Waiter that every subscribed topic wakes.

#include <memory>
#include <string>
#include <vector>

#include "orchestration/backend.h"
#include "orchestration/inproc/broker.h"
#include "orchestration/inproc/waiter.h"

namespace mlops::orchestration::detail::inproc {

class InprocConsumer final : public ConsumerBackend {
 public:
  InprocConsumer(Broker& broker, const ConsumerOptions& options);
  ~InprocConsumer() override;

  Result<void> assign(std::span<const std::string> topics) override;
  Status poll(std::vector<Delivery>& out, std::size_t max, Deadline deadline) noexcept override;
  Status commit() noexcept override;
  Result<void> seek(std::string_view topic, bool to_latest) override;
  Result<std::uint64_t> seek_to(std::string_view topic, const SeekProbe& probe) override;
  void close() noexcept override;

 private:
  std::size_t take_all(std::vector<Delivery>& out, std::size_t max) noexcept;
  [[nodiscard]] bool anything_new() const noexcept;

  Broker& broker_;
  std::string group_;
  bool ephemeral_;
  OffsetReset offset_reset_;
  Waiter waiter_;
  std::vector<std::unique_ptr<Member>> members_;  // one per subscribed topic
  std::size_t next_member_ = 0;                   // where the next poll starts (fairness)
};

}  // namespace mlops::orchestration::detail::inproc
