// The seed README's second example: read the fields of received messages.
// Here the "received" messages are wire bytes checked by from_bytes, as a consumer does.
#include <mlops/messaging.h>

#include <iostream>
#include <vector>

#include "example_cli.h"

namespace mes = mlops::messaging;

int main(int argc, char** argv) {
  const auto command_line = mlops::examples::parse_command_line(
      argc, argv, "usage: example_read_message",
      "Checks two messages' wire bytes with from_bytes and prints their fields and JSON.\n");
  if (command_line.exit_code) return *command_line.exit_code;

  // Stand-ins for what a consumer's receive() returns: bytes off the wire.
  std::vector<std::vector<std::uint8_t>> wire;
  for (const char* topic : {"Cool-New-Topic", "Sick-Topic"}) {
    const auto sent = mes::MessageBuilder()
                          .with_msg_type(mes::MessageType::COMPLETE)
                          .with_creator_type("training")
                          .with_topic(topic)
                          .with_user_msg("model trained")
                          .build();
    wire.emplace_back(sent.bytes().begin(), sent.bytes().end());
  }

  std::vector<mes::MLOpsMessage> msgs;
  for (const auto& bytes : wire) {
    auto msg = mes::MLOpsMessage::from_bytes(bytes);
    if (!msg) {
      std::cerr << "skipped a bad message: " << msg.error().message << '\n';
      continue;
    }
    msgs.push_back(*msg);
  }

  for (const auto& msg : msgs) {
    // Get various attributes from the message.
    std::cout << mes::to_string(msg.creator_type()) << ' ' << msg.topic()[0] << ' '
              << msg.user_message().value_or("None") << '\n';
    std::cout << "  as JSON: " << msg.to_json().value() << '\n';
  }
  return msgs.size() == 2 ? 0 : 1;
}
