#pragma once
// What the kafka backend's producer, consumer and admin share: the settings read from the
// URI and role options, the librdkafka configuration built from them, the (test-only) mock
// cluster, and a reference-counted client handle that outlives every message viewing it.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "mlops/orchestration/backend_options.h"
#include "mlops/result.h"

namespace mlops::orchestration::detail::kafka {

/// The one header every record carries: its content type. The schema only ever appends
/// fields, so every reader reads every version; the `schema` parameter
/// tells foreign consumers which version they look at. (One header, not two: librdkafka
/// allocates per header of every record, and the bytes travel with each record.)
inline constexpr std::string_view kContentTypeHeader = "content-type";
/// The schema parameter is mlops::schema_version() (kafka_test checks they agree).
inline constexpr std::string_view kContentType = "application/x-mlops-flatbuffer; schema=3";

/// Which part of a message becomes the record key (records of one key keep their order).
enum class KeySource : std::uint8_t { kNone, kCreator };

/// The record key of a message without a key of its own (MessageBuilder::with_key).
enum class Ordering : std::uint8_t {
  kProducer,  ///< The producer's own key: its messages keep their order, in one partition.
  kNone,      ///< No key: the partitioner spreads them over the partitions, in no order.
};

/// The backend's own settings; every other option is a librdkafka property.
struct KafkaSettings {
  /// Record key: `key=none|creator` (default none: see `ordering`).
  KeySource key = KeySource::kNone;
  /// Record key of messages without one (no message key, no creator key):
  /// `ordering=producer|none` (default producer).
  Ordering ordering = Ordering::kProducer;
  /// Bound on admin requests and on waits without a caller deadline: `timeout_ms` (5000).
  std::chrono::milliseconds timeout{5000};
  /// How long subscribe() waits for the group to assign partitions: `assign_wait_ms`
  /// (5000). The join goes on in the background after it (other members must poll).
  std::chrono::milliseconds assign_wait{5000};
  /// After a burst of 10 problem log lines a client logs at most one per `log_interval_ms`
  /// (10000), each saying how many were held back before it.
  std::chrono::milliseconds log_interval{10'000};
  /// TEST ONLY: `mock.brokers=N` starts librdkafka's in-process mock cluster of N brokers
  /// for this backend (the connection is then ignored); `mock.partitions=P` (default 1)
  /// is the partition count of topics the backend creates on it.
  int mock_brokers = 0;
  int mock_partitions = 1;
  /// librdkafka properties, passed through as given.
  BackendOptions properties;
};

/// Reads `options` over `base`: the keys above are the backend's, every other key is
/// kept as a librdkafka property (checked when a client is created).
Result<KafkaSettings> read_settings(const BackendOptions& options, KafkaSettings base);

/// What one opened kafka:// endpoint shares with its clients (thread-safe): the bootstrap
/// servers and, in tests, the mock cluster, which lives as long as any client or message.
class Cluster {
 public:
  static Result<std::shared_ptr<Cluster>> open(std::string connection, KafkaSettings settings);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  [[nodiscard]] const std::string& bootstrap() const noexcept { return bootstrap_; }
  [[nodiscard]] const KafkaSettings& settings() const noexcept { return settings_; }
  [[nodiscard]] bool is_mock() const noexcept { return mock_ != nullptr; }
  /// On the mock cluster, creates `topic` (once) with `partitions` (0: mock.partitions),
  /// since the mock does not implement CreateTopics. A no-op on real brokers.
  void ensure_mock_topic(std::string_view topic, int partitions = 0);

 private:
  Cluster(std::string bootstrap, KafkaSettings settings)
      : bootstrap_(std::move(bootstrap)), settings_(std::move(settings)) {}

  std::string bootstrap_;
  KafkaSettings settings_;
  rd_kafka_t* mock_handle_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  std::mutex mutex_;
  std::set<std::string, std::less<>> mock_topics_;
};

/// One librdkafka client. Destroyed when the last holder lets go: the producer or consumer
/// object and every received message viewing its memory hold one.
class Client {
 public:
  Client(rd_kafka_t* handle, std::shared_ptr<Cluster> cluster) noexcept
      : handle_(handle), cluster_(std::move(cluster)) {}
  /// Consumers close themselves (bounded) before the last holder goes: the destructor must
  /// not close them again without a bound.
  void skip_consumer_close() noexcept { destroy_flags_ = RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE; }
  /// The consumer could not close in time, so destroying it would block (see
  /// kafka_reaper.h): the last holder hands it to the reaper thread instead.
  void defer_destroy() noexcept { deferred_ = true; }
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] rd_kafka_t* get() const noexcept { return handle_; }

 private:
  rd_kafka_t* handle_;
  int destroy_flags_ = 0;
  bool deferred_ = false;
  std::shared_ptr<Cluster> cluster_;  // after handle_: the mock outlives its clients
};

/// Owns an rd_kafka_conf_t until it is handed to rd_kafka_new.
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const noexcept { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

/// A configuration with bootstrap.servers, log routing to mlops::log, then `defaults`,
/// then the endpoint's and the role's librdkafka properties (later ones win).
/// @return the conf, or kInvalidArgument naming the property librdkafka refused.
Result<ConfPtr> make_conf(const Cluster& cluster, const BackendOptions& defaults,
                          const BackendOptions& role_properties);

/// rd_kafka_new over `conf` (taken on success). @return the client or kUnavailable.
Result<std::shared_ptr<Client>> make_client(rd_kafka_type_t type, ConfPtr& conf,
                                            std::shared_ptr<Cluster> cluster);

/// The value of librdkafka property `name` in `conf` (its default if unset); empty if unknown.
std::string conf_value(const rd_kafka_conf_t* conf, const char* name);

/// Milliseconds from now until `deadline`, rounded up, at least 0.
int remaining_ms(std::chrono::steady_clock::time_point deadline) noexcept;

}  // namespace mlops::orchestration::detail::kafka
