#pragma once
// The backends the semantics suite runs against. A new backend adds one case here: a
// name and a function giving a fresh, isolated URI (a broker, directory or namespace of
// its own) for each test.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#if MLOPS_TEST_REDIS
#include "support/redis_server.h"
#endif

namespace mlops::orchestration::testing {

struct BackendCase {
  std::string name;
  std::function<std::string(const std::string& unique)> make_uri;
  /// Whether several consumers of one group may be active at once (competing consumers).
  bool shared_groups = true;
  /// When not empty, every test of this case skips with this reason (a server is absent).
  std::string skip_reason{};
};

/// A directory for this test process's mmap queues, removed when the process ends.
inline const std::filesystem::path& mmap_test_root() {
  struct Root {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("mlops-api-" + std::to_string(::getpid()));
    ~Root() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Root root;
  return root.path;
}

#if MLOPS_TEST_KAFKA
/// librdkafka settings that keep group joins and failure detection short in tests.
inline constexpr const char* kKafkaTestSettings =
    "session.timeout.ms=5000&heartbeat.interval.ms=300&timeout_ms=5000";
#endif

inline std::vector<BackendCase> backend_cases() {
  std::vector<BackendCase> cases{
      {"inproc", [](const std::string& unique) { return "inproc://" + unique; }},
      {"mmap",
       [](const std::string& unique) {
         return "mmap://" + (mmap_test_root() / unique).string() +
                "?segment_bytes=65536&populate=false";
       }},
  };
#if MLOPS_TEST_KAFKA
  // A mock cluster (librdkafka's, in process) per test: mock.brokers is a test-only option.
  // Competing consumers are left to kafka_test: with one partition per topic a group's
  // second member gets nothing, and which member gets the partition is the broker's choice.
  cases.push_back({"kafka_mock",
                   [](const std::string&) {
                     return std::string("kafka://mock?mock.brokers=1&") + kKafkaTestSettings;
                   },
                   /*shared_groups=*/false});
  const char* brokers = std::getenv("MLOPS_TEST_KAFKA_BROKERS");
  cases.push_back({"kafka_broker",
                   [brokers](const std::string&) {
                     return std::string("kafka://") + (brokers ? brokers : "") + "?" +
                            kKafkaTestSettings;
                   },
                   /*shared_groups=*/false,
                   brokers != nullptr && *brokers != '\0'
                       ? ""
                       : "MLOPS_TEST_KAFKA_BROKERS is not set (host:port of a real Kafka broker)"});
#endif
#if MLOPS_TEST_REDIS
  // One redis-server per test process (started at the first redis test, stopped at exit);
  // each test gets a database of its own (the server has 16384).
  static const bool have_redis = !mlops::testing::find_redis_server().empty();
  cases.push_back({"redis",
                   [](const std::string&) {
                     static mlops::testing::RedisServer server;
                     static const bool started = server.start();
                     static int next_db = 0;
                     next_db = next_db % 16383 + 1;
                     return "redis://" + (started ? server.address() : std::string("127.0.0.1:1")) +
                            "/" + std::to_string(next_db) + "?claim_idle_ms=2000&timeout_ms=3000";
                   },
                   /*shared_groups=*/true,
                   have_redis ? "" : "redis-server is not installed (scripts/install-deps.sh)"});
#endif
  return cases;
}

}  // namespace mlops::orchestration::testing
