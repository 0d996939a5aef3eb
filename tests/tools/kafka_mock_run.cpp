// Runs a command against librdkafka's mock cluster in a process of its own, so that several
// `mlops` invocations (each its own process) reach one cluster over TCP:
//   mlops_test_kafka_mock_run TOPIC,TOPIC,... COMMAND ARGS...
// The command sees the brokers in $MLOPS_TEST_KAFKA; its exit status is this one's (77 when
// the mock cannot start, which ctest reports as skipped).

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "kafka_mock_process.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: mlops_test_kafka_mock_run TOPIC,TOPIC,... COMMAND ARGS...\n";
    return 2;
  }
  std::vector<std::string> topics;
  std::istringstream list(argv[1]);
  for (std::string topic; std::getline(list, topic, ',');) topics.push_back(topic);
  auto mock = mlops::examples::KafkaMockProcess::start(1, 1, topics);
  if (!mock) {
    std::cerr << "kafka mock cluster did not start: " << mock.error().message << '\n';
    return 77;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::setenv("MLOPS_TEST_KAFKA", mock->bootstraps().c_str(), 1);
    ::execvp(argv[2], argv + 2);
    std::cerr << "cannot run " << argv[2] << ": " << std::strerror(errno) << '\n';
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
