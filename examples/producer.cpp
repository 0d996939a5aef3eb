// The original's producer example in C++: build the seed message and send it.
// Usage: example_producer [URI]   (default: Orchestration::detect(), i.e. $MLOPS_ORCHESTRATION
// or the embedded default).
#include <mlops/orchestration.h>

#include <iostream>

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;

int main(int argc, char** argv) {
  auto orch = argc > 1 ? orc::Orchestration::from_uri(argv[1]) : orc::Orchestration::detect();
  if (!orch) {
    std::cerr << "orchestration: " << orch.error().message << '\n';
    return 1;
  }
  auto producer = orc::Producer::create(*orch, "Cool-New-Topic");
  if (!producer) {
    std::cerr << "producer: " << producer.error().message << '\n';
    return 1;
  }

  const auto new_msg = mes::MessageBuilder()
                           .with_msg_type(mes::MessageType::START)
                           .with_creator_type("ETL")
                           .with_creator("ETL")
                           .with_user_msg("Hello World")
                           .with_next_task("Train")
                           .build();

  // Asynchronous; `true` also waits until the backend holds it (flush).
  const auto status = producer->send(new_msg, true);
  std::cout << "sent to " << orch->uri() << " topic Cool-New-Topic: " << orc::to_string(status)
            << '\n';
  return status == orc::Status::kOk ? 0 : 1;
}
