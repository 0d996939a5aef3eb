#pragma once
// A redis-server of a test's own: on a free port of 127.0.0.1, in a temporary directory,
// with appendonly yes and appendfsync always (an acknowledged write is on disk). Started
// and stopped with bounded waits; the child dies with the test process (PR_SET_PDEATHSIG),
// so a failing or crashing test leaves no server behind.

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace mlops::testing {

/// The redis-server binary on PATH (MLOPS_REDIS_SERVER overrides), or empty.
inline std::string find_redis_server() {
  if (const char* given = std::getenv("MLOPS_REDIS_SERVER"); given != nullptr && *given != '\0') {
    return std::filesystem::exists(given) ? std::string(given) : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    const std::filesystem::path candidate =
        std::filesystem::path(dirs.substr(start, end - start)) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}

/// A port the kernel says is free on 127.0.0.1 now (bound to port 0, then released).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

/// Whether a Redis server on 127.0.0.1:`port` answers PING within `timeout` (it listens
/// before it has loaded its files, and answers -LOADING meanwhile).
inline bool loopback_answers_ping(int port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::write(fd, "PING\r\n", 6) == 6) {
    pollfd ready{fd, POLLIN, 0};
    char reply[64] = {};
    ok = ::poll(&ready, 1, static_cast<int>(timeout.count())) > 0 &&
         ::read(fd, reply, sizeof reply - 1) > 0 &&
         (std::string_view(reply).starts_with("+PONG") ||
          std::string_view(reply).starts_with("-NOAUTH"));
  }
  ::close(fd);
  return ok;
}

/// One redis-server child process. Not thread-safe.
class RedisServer {
 public:
  /// `extra_config`: more redis.conf lines (e.g. "requirepass secret\n").
  explicit RedisServer(std::string extra_config = {}) : extra_config_(std::move(extra_config)) {
    binary_ = find_redis_server();
    dir_ = std::filesystem::temp_directory_path() /
           ("mlops-redis-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
  }
  ~RedisServer() {
    kill();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  [[nodiscard]] bool available() const { return !binary_.empty(); }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] bool running() const { return pid_ > 0; }
  /// "127.0.0.1:PORT".
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// Starts the server (on the port it had, after a stop; else a free one) and waits, at
  /// most `timeout`, until it accepts connections. @return false if it did not.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (binary_.empty() || pid_ > 0) return pid_ > 0;
    std::filesystem::create_directories(dir_);
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (port_ == 0 || attempt > 0) {
        if (ever_started_) {
          if (attempt > 0) return false;  // keep the port clients know
        } else {
          port_ = free_loopback_port();
        }
      }
      write_config();
      const pid_t pid = ::fork();
      if (pid < 0) return false;
      if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        const std::string config = (dir_ / "redis.conf").string();
        ::execl(binary_.c_str(), binary_.c_str(), config.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
      }
      pid_ = pid;
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (std::chrono::steady_clock::now() < deadline) {
        if (loopback_answers_ping(port_, std::chrono::milliseconds(500))) {
          ever_started_ = true;
          return true;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken? try another
          pid_ = 0;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (pid_ > 0) {
        kill();
        return false;
      }
    }
    return false;
  }

  /// SIGSTOP: the server holds its connections and answers nothing until resume().
  void pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }
  /// SIGKILL, reaped (bounded: SIGKILL cannot be ignored).
  void kill() { signal_and_reap(SIGKILL); }
  /// SIGTERM (the server writes its files and exits), reaped within 10 s, else SIGKILL.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill();
  }

 private:
  static int& counter() {
    static int value = 0;
    return value;
  }
  void signal_and_reap(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }
  void write_config() {
    std::ofstream out(dir_ / "redis.conf", std::ios::trunc);
    out << "port " << port_ << "\nbind 127.0.0.1\nprotected-mode yes\n"
        << "dir " << dir_.string() << "\nappendonly yes\nappendfsync always\nsave \"\"\n"
        << "daemonize no\nlogfile " << (dir_ / "redis.log").string() << "\n"
        << "databases 16384\nmaxmemory 1gb\nmaxmemory-policy noeviction\n"
        << extra_config_;
  }

  std::string binary_;
  std::string extra_config_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = 0;
  bool ever_started_ = false;
};

}  // namespace mlops::testing
