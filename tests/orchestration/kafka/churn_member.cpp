// One member of kafka_churn_test's consumer group, in a process of its own so the test can
// kill it (SIGKILL: no leave, no commit). Usage: kafka_churn_member URI TOPIC GROUP
// Receives, writes each message's number to stdout (8 bytes, native order) and only then
// commits, so every number committed has been reported. It exits when its parent goes or
// after kMaxLifetime, so a failed test leaves no process behind.
#include <mlops/orchestration.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "support/churn_group_settings.h"

namespace {

namespace orc = mlops::orchestration;
constexpr auto kMaxLifetime = std::chrono::minutes(3);

bool write_all(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const auto written = ::write(STDOUT_FILENO, bytes, size);
    if (written <= 0) return false;
    bytes += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s URI TOPIC GROUP\n", argv[0]);
    return 2;
  }
  const pid_t parent = ::getppid();
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) return 0;  // the parent went before the line above
  mlops::set_log_handler([](mlops::LogLevel, std::string_view) {});  // stderr stays quiet
  auto orch = orc::Orchestration::from_uri(argv[1]);
  if (!orch) return 3;
  auto consumer =
      orc::Consumer::create(argv[2], *orch,
                            {.group = argv[3],
                             .auto_commit = false,
                             .backend = mlops::orchestration::testing::churn_group_settings()});
  if (!consumer) return 4;
  std::vector<mlops::messaging::MLOpsMessage> got;
  std::vector<std::int64_t> numbers;
  const auto end = std::chrono::steady_clock::now() + kMaxLifetime;
  while (std::chrono::steady_clock::now() < end) {
    (void)consumer->receive(got, {}, std::chrono::milliseconds(100), 1000);
    if (got.empty()) continue;
    numbers.clear();
    for (const auto& message : got) {
      const auto value = message.additional_argument("n");
      numbers.push_back(value ? value->as_int().value_or(-1) : -1);
    }
    if (!write_all(numbers.data(), numbers.size() * sizeof(std::int64_t))) return 5;
    (void)consumer->commit();
  }
  return 0;
}
