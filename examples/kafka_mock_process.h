#pragma once
// For trying the pipeline on Kafka without a broker: librdkafka's mock cluster (the real
// protocol, in memory) in a process of its own, which the pipeline's stages reach over TCP
// like any broker. Started before anything else in the pipeline touches librdkafka, which is
// not safe to use in a child forked after it started its threads.

#include <sys/types.h>

#include <string>
#include <vector>

#include "mlops/result.h"

namespace mlops::examples {

/// A mock Kafka cluster running in a child process until this object goes (or the process
/// that started it dies). Thread-safety: one owner.
class KafkaMockProcess {
 public:
  /// Forks a process running a mock cluster of `brokers` brokers that holds `topics`, each
  /// with `partitions` partitions replicated on up to 3 brokers; waits (up to 10 s) for it.
  /// @return the running process, or kUnavailable saying why it did not start (also when
  ///         this build has no librdkafka).
  static Result<KafkaMockProcess> start(int brokers, int partitions,
                                        const std::vector<std::string>& topics);

  /// Takes over `other`'s process.
  KafkaMockProcess(KafkaMockProcess&& other) noexcept;
  /// Stops this one's process, then takes over `other`'s.
  KafkaMockProcess& operator=(KafkaMockProcess&& other) noexcept;
  KafkaMockProcess(const KafkaMockProcess&) = delete;
  KafkaMockProcess& operator=(const KafkaMockProcess&) = delete;
  /// Stops the process (SIGTERM) and reaps it.
  ~KafkaMockProcess();

  /// The brokers' addresses: HOST:PORT,HOST:PORT,...
  [[nodiscard]] const std::string& bootstraps() const noexcept { return bootstraps_; }

 private:
  KafkaMockProcess(pid_t pid, std::string bootstraps) noexcept
      : pid_(pid), bootstraps_(std::move(bootstraps)) {}
  void stop() noexcept;

  pid_t pid_ = -1;
  std::string bootstraps_;
};

}  // namespace mlops::examples
