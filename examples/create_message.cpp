// The seed README's first example: build an MLOpsMessage with the MessageBuilder.
#include <mlops/messaging.h>

#include <iostream>

#include "example_cli.h"

namespace mes = mlops::messaging;

int main(int argc, char** argv) {
  const auto command_line = mlops::examples::parse_command_line(
      argc, argv, "usage: example_create_message",
      "Builds the seed README's message with the MessageBuilder and prints its fields.\n");
  if (command_line.exit_code) return *command_line.exit_code;

  const std::string user_msg = "Hello World";
  const auto new_msg = mes::MessageBuilder()
                           .with_msg_type(mes::MessageType::START)
                           .with_creator_type("ETL")
                           .with_creator("ETL")
                           .with_user_msg(user_msg)
                           .with_next_task("Train")
                           .build();

  // Once built, the message can only be read.
  std::cout << "user_message: " << new_msg.user_message().value_or("None") << '\n'
            << "stage:        " << (new_msg.stage() ? mes::to_string(*new_msg.stage()) : "None")
            << '\n'
            << "creator_type: " << mes::to_string(new_msg.creator_type()) << '\n'
            << "id:           " << new_msg.id()->to_string() << '\n'
            << "bytes:        " << new_msg.bytes().size() << '\n';
  return new_msg.user_message() == user_msg && !new_msg.stage() ? 0 : 1;
}
