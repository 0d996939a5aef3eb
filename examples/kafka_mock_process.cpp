#include "kafka_mock_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <utility>

#if MLOPS_EXAMPLE_HAS_RDKAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif

namespace mlops::examples {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);

#if MLOPS_EXAMPLE_HAS_RDKAFKA
// The child: runs the cluster, tells the parent where it is (or why not) in one line on
// `report`, and serves until it is killed. Never returns.
[[noreturn]] void serve(int brokers, int partitions, const std::vector<std::string>& topics,
                        int report, pid_t parent) {
  // Dies with the pipeline even when the pipeline dies without stopping it.
  (void)::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(1);
  std::string line;
  std::array<char, 256> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  (void)rd_kafka_conf_set(conf, "log_level", "3", error.data(), error.size());
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  rd_kafka_mock_cluster_t* cluster =
      handle != nullptr ? rd_kafka_mock_cluster_new(handle, brokers) : nullptr;
  if (cluster == nullptr) {
    line = std::string("error: could not start the mock cluster ") + error.data();
  } else {
    line = rd_kafka_mock_cluster_bootstraps(cluster);
    for (const auto& topic : topics) {
      const auto made =
          rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, std::min(brokers, 3));
      if (made != RD_KAFKA_RESP_ERR_NO_ERROR) {
        line = "error: topic " + topic + ": " + rd_kafka_err2str(made);
        break;
      }
    }
  }
  line += '\n';
  (void)!::write(report, line.data(), line.size());
  ::close(report);
  for (;;) ::pause();  // until SIGTERM: from the destructor, or the parent's death
}
#endif

}  // namespace

Result<KafkaMockProcess> KafkaMockProcess::start(int brokers, int partitions,
                                                 const std::vector<std::string>& topics) {
#if MLOPS_EXAMPLE_HAS_RDKAFKA
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Error{ErrorCode::kUnavailable, "pipe failed"};
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(report[0]);
    ::close(report[1]);
    return Error{ErrorCode::kUnavailable, "fork failed"};
  }
  if (child == 0) {
    ::close(report[0]);
    serve(brokers, partitions, topics, report[1], parent);
  }
  ::close(report[1]);
  KafkaMockProcess process(child, {});  // stopped on every return below but the last
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::array<char, 512> buffer{};
  while (!line.ends_with('\n')) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{report[0], POLLIN, 0};
    const int polled = left.count() > 0 ? ::poll(&ready, 1, static_cast<int>(left.count())) : 0;
    if (polled < 0 && errno == EINTR) continue;
    const ssize_t got = polled > 0 ? ::read(report[0], buffer.data(), buffer.size()) : -1;
    if (got <= 0) break;
    line.append(buffer.data(), static_cast<std::size_t>(got));
  }
  ::close(report[0]);
  if (!line.ends_with('\n')) {
    return Error{ErrorCode::kUnavailable, "the mock cluster did not start within 10 s"};
  }
  line.pop_back();
  if (line.starts_with("error: ")) return Error{ErrorCode::kUnavailable, line.substr(7)};
  process.bootstraps_ = std::move(line);
  return process;
#else
  (void)brokers;
  (void)partitions;
  (void)topics;
  return Error{ErrorCode::kUnavailable, "this build has no librdkafka, so no Kafka mock cluster"};
#endif
}

KafkaMockProcess::KafkaMockProcess(KafkaMockProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), bootstraps_(std::move(other.bootstraps_)) {}

KafkaMockProcess& KafkaMockProcess::operator=(KafkaMockProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    bootstraps_ = std::move(other.bootstraps_);
  }
  return *this;
}

KafkaMockProcess::~KafkaMockProcess() { stop(); }

void KafkaMockProcess::stop() noexcept {
  if (pid_ <= 0) return;
  // SIGTERM ends it at once (it only waits in pause()); its clients see the brokers go.
  (void)::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace mlops::examples
