// Builds, verifies and reads a message through the installed headers and library, checks
// the library linked is the headers' version, and (with orchestration) moves the message
// through an inproc broker: the same source is built by CMake (find_package) and by
// pkg-config alone, against static and shared installs.
#include <mlops/messaging.h>
#include <mlops/version.h>

#include <chrono>
#include <iostream>
#include <string>

#if MLOPS_HAS_ORCHESTRATION
#include <mlops/orchestration.h>
#endif

namespace {

int fail(const std::string& why) {
  std::cerr << "install test: " << why << "\n";
  return 1;
}

#if MLOPS_HAS_ORCHESTRATION
// Sends `msg` and receives it again through an inproc broker; empty on success.
std::string round_trip(const mlops::messaging::MLOpsMessage& msg) {
  namespace orc = mlops::orchestration;
  auto orch =
      orc::OrchestrationBuilder().with_orchestrator("inproc").with_connection("install").build();
  if (!orch) return "no inproc orchestration: " + orch.error().message;
  auto consumer = orc::Consumer::create("installed", *orch, {.group = "install-test"});
  auto producer = orc::Producer::create(*orch, "installed");
  if (!consumer || !producer) return "no consumer or producer";
  if (producer->send(msg, true) != orc::Status::kOk) return "send failed";
  const auto got = consumer->receive(std::chrono::seconds(10));
  if (got.size() != 1 || got[0].user_message() != msg.user_message()) {
    return "the message did not come back (" + std::to_string(got.size()) + " received)";
  }
  return {};
}
#endif

}  // namespace

int main() {
  namespace mes = mlops::messaging;
  const std::string headers = std::to_string(MLOPS_VERSION_MAJOR) + "." +
                              std::to_string(MLOPS_VERSION_MINOR) + "." +
                              std::to_string(MLOPS_VERSION_PATCH);
  if (mlops::version() != headers) {
    return fail("library version " + std::string(mlops::version()) + ", headers " + headers);
  }
  const auto msg =
      mes::MessageBuilder().with_user_msg("installed").with_creator_type("ETL").build();
  auto again = mes::MLOpsMessage::from_bytes(msg.bytes());
  if (!again || again->user_message() != "installed" ||
      again->creator_type() != mes::CreatorType::MLOPS) {
    return fail("message did not round-trip");
  }
#if MLOPS_HAS_ORCHESTRATION
  if (const auto why = round_trip(msg); !why.empty()) return fail(why);
  std::cout << "install test: ok (mlops " << mlops::version() << ", " << msg.bytes().size()
            << " bytes, through inproc)\n";
#else
  std::cout << "install test: ok (mlops " << mlops::version() << ", " << msg.bytes().size()
            << " bytes)\n";
#endif
  return 0;
}
