#pragma once
// What the redis tests share: a server of the test's own, its URI, and small listeners that
// are not Redis (one answers garbage, one never answers).

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "support/redis_server.h"
#include "support/test_support.h"

namespace mlops::orchestration::testing {

/// Starts `server` or skips the test visibly (no redis-server installed) or fails it.
#define MLOPS_START_REDIS(server)                                               \
  do {                                                                          \
    if (!(server).available()) GTEST_SKIP() << "redis-server is not installed"; \
    ASSERT_TRUE((server).start()) << "redis-server did not start";              \
  } while (0)

/// "redis://127.0.0.1:PORT?..." for `server` with `options` (a query without '?').
inline std::string redis_uri(const mlops::testing::RedisServer& server,
                             const std::string& options = {}) {
  return "redis://" + server.address() + (options.empty() ? "" : "?" + options);
}

/// A TCP listener on 127.0.0.1 that accepts connections and, for each, writes `answer`
/// (nothing: it never answers) and keeps it open until the listener goes.
class FakeListener {
 public:
  explicit FakeListener(std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeListener() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    for (int fd : accepted_) ::close(fd);
    ::close(fd_);
  }
  FakeListener(const FakeListener&) = delete;
  FakeListener& operator=(const FakeListener&) = delete;

  [[nodiscard]] int port() const { return port_; }

 private:
  void serve() {
    while (!stop_.load()) {
      pollfd fd{fd_, POLLIN, 0};
      if (::poll(&fd, 1, 20) <= 0) continue;  // a slice, to see stop_
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      accepted_.push_back(client);
      // MSG_NOSIGNAL: a client that hangs up must not raise SIGPIPE in the test.
      if (!answer_.empty()) (void)!::send(client, answer_.data(), answer_.size(), MSG_NOSIGNAL);
    }
  }

  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> accepted_;
  std::thread thread_;
};

/// Milliseconds `call` took.
template <typename Call>
std::chrono::milliseconds time_of(Call&& call) {
  const auto start = Clock::now();
  call();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace mlops::orchestration::testing
