#pragma once
// inproc admin: the broker is always there; topics are listed and created in it.

#include "orchestration/backend.h"
#include "orchestration/inproc/broker.h"

namespace mlops::orchestration::detail::inproc {

class InprocAdmin final : public AdminBackend {
 public:
  explicit InprocAdmin(Broker& broker) : broker_(broker) {}
  Result<void> validate_connection(Deadline deadline) override;
  Result<std::vector<std::string>> topics() override;
  Result<void> create_topic(std::string_view name, const TopicOptions& options) override;

 private:
  Broker& broker_;
};

}  // namespace mlops::orchestration::detail::inproc
