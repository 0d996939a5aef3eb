// The original's consumer example in C++: receive messages and print some of their fields.
// Usage: example_consumer [URI]   (default: Orchestration::detect()).
// inproc brokers live inside one process, so over inproc this example first sends two
// messages itself; over a shared backend it reads what example_producer sent.
#include <mlops/orchestration.h>

#include <chrono>
#include <iostream>

#include "example_cli.h"

namespace mes = mlops::messaging;
namespace orc = mlops::orchestration;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const auto command_line = mlops::examples::parse_command_line(
      argc, argv, "usage: example_consumer [URI]",
      "Receives from the topic Cool-New-Topic (group \"example\") for up to 5 s and prints each\n"
      "message. URI: as example_producer's; over inproc it sends two messages first.\n",
      {}, 1);
  if (command_line.exit_code) return *command_line.exit_code;
  const auto& args = command_line.positional;
  auto orch = !args.empty() ? orc::Orchestration::from_uri(args[0]) : orc::Orchestration::detect();
  if (!orch) {
    std::cerr << "orchestration: " << orch.error().message << '\n';
    return 1;
  }
  auto con = orc::Consumer::create("Cool-New-Topic", *orch, {.group = "example"});
  if (!con) {
    std::cerr << "consumer: " << con.error().message << '\n';
    return 1;
  }

  std::size_t expected = 0;
  if (orch->orchestrator() == "inproc") {
    auto producer = orc::Producer::create(*orch).value();
    for (const char* creator_type : {"ETL", "training"}) {
      const auto msg = mes::MessageBuilder()
                           .with_msg_type(mes::MessageType::COMPLETE)
                           .with_creator_type(creator_type)
                           .with_topic("Cool-New-Topic")
                           .with_user_msg(std::string(creator_type) + " finished")
                           .build();
      if (producer.send(msg) == orc::Status::kOk) ++expected;
    }
  }

  std::size_t received = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    const auto msgs = con->receive(500ms);  // possibly empty: poll in a loop
    for (const auto& msg : msgs) {
      // Get various attributes from the message.
      std::cout << mes::to_string(msg.creator_type()) << ' ';
      for (const auto topic : msg.topic()) std::cout << topic << ' ';
      std::cout << msg.user_message().value_or("None") << '\n';
    }
    received += msgs.size();
  } while (received < expected && std::chrono::steady_clock::now() < deadline);
  (void)con->commit();
  std::cout << "received " << received << " message(s) from " << orch->redacted_uri() << '\n';
  return received >= expected ? 0 : 1;
}
