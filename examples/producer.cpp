// The original's producer example in C++: build the seed message and send it.
// Usage: example_producer [URI]   (default: Orchestration::detect(), i.e. $MLOPS_ORCHESTRATION
// or the embedded default).
#include <mlops/orchestration.h>

#include <iostream>

#include "example_cli.h"

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;

int main(int argc, char** argv) {
  const auto command_line = mlops::examples::parse_command_line(
      argc, argv, "usage: example_producer [URI]",
      "Sends the seed message to the topic Cool-New-Topic and waits until the backend holds it.\n"
      "URI: where (inproc://NAME, mmap:///DIR, kafka://HOST:PORT, ...); default:\n"
      "$MLOPS_ORCHESTRATION, else mmap://./.mlops.\n",
      {}, 1);
  if (command_line.exit_code) return *command_line.exit_code;
  const auto& args = command_line.positional;
  auto orch = !args.empty() ? orc::Orchestration::from_uri(args[0]) : orc::Orchestration::detect();
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
  std::cout << "sent to " << orch->redacted_uri()
            << " topic Cool-New-Topic: " << orc::to_string(status) << '\n';
  return status == orc::Status::kOk ? 0 : 1;
}
