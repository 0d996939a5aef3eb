// Builds, verifies and reads a message through the installed headers and library.
#include <mlops/messaging.h>

#include <iostream>

int main() {
  namespace mes = mlops::messaging;
  const auto msg = mes::MessageBuilder().with_user_msg("installed").with_creator_type("ETL").build();
  auto again = mes::MLOpsMessage::from_bytes(msg.bytes());
  if (!again || again->user_message() != "installed" ||
      again->creator_type() != mes::CreatorType::MLOPS) {
    std::cerr << "install test: message did not round-trip\n";
    return 1;
  }
  std::cout << "install test: ok (" << msg.bytes().size() << " bytes)\n";
  return 0;
}
