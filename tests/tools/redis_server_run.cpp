// Runs a command against a redis-server of its own (tests/support/redis_server.h, as the
// redis C++ tests start theirs), so that several `mlops` invocations reach one server:
//   mlops_test_redis_run COMMAND ARGS...
// The command sees the server in $MLOPS_TEST_REDIS (127.0.0.1:PORT); its exit status is this
// one's (77, which ctest reports as skipped, when redis-server is not installed).

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "support/redis_server.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: mlops_test_redis_run COMMAND ARGS...\n";
    return 2;
  }
  mlops::testing::RedisServer server;
  if (!server.available()) {
    std::cerr << "SKIP: redis-server is not installed\n";
    return 77;
  }
  if (!server.start()) {
    std::cerr << "redis-server did not start\n";
    return 1;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::setenv("MLOPS_TEST_REDIS", server.address().c_str(), 1);
    ::execvp(argv[1], argv + 1);
    std::cerr << "cannot run " << argv[1] << ": " << std::strerror(errno) << '\n';
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
