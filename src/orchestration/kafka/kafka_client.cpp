#include "orchestration/kafka/kafka_client.h"

#include <array>
#include <mutex>
#include <set>
#include <string>

#include "mlops/log.h"
#include "orchestration/kafka/kafka_python_names.h"
#include "orchestration/kafka/kafka_reaper.h"
#include "orchestration/option_reader.h"

namespace mlops::orchestration::detail::kafka {
namespace {

// librdkafka's log lines (from its own threads) go to the library's log hook.
void log_line(const rd_kafka_t* handle, int level, const char* facility, const char* text) {
  if (process_exiting()) return;  // the hook's state may be gone; see kafka_reaper.h
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  const LogLevel mapped = level <= 3   ? LogLevel::kError
                          : level == 4 ? LogLevel::kWarning
                          : level <= 6 ? LogLevel::kInfo
                                       : LogLevel::kDebug;
  try {
    log(mapped, std::string("kafka ") + rd_kafka_name(handle) + " " + facility + ": " + text);
  } catch (...) {  // A failing log hook must not reach librdkafka's threads.
  }
}

void error_line(rd_kafka_t* handle, int error, const char* reason, void* /*opaque*/) {
  if (process_exiting()) return;
  const auto code = static_cast<rd_kafka_resp_err_t>(error);
  // Transport errors come and go with brokers; librdkafka retries them itself.
  const bool fatal = code == RD_KAFKA_RESP_ERR__FATAL;
  try {
    log(fatal ? LogLevel::kError : LogLevel::kWarning, std::string("kafka ") +
                                                           rd_kafka_name(handle) + ": " +
                                                           rd_kafka_err2name(code) + ": " + reason);
  } catch (...) {
  }
}

// One warning per option name per process, as the other backends warn about what they ignore.
void warn_once(const std::string& key, const std::string& text) {
  static std::mutex mutex;
  static std::set<std::string, std::less<>> warned;
  {
    const std::lock_guard lock(mutex);
    if (!warned.insert(key).second) return;
  }
  log(LogLevel::kWarning, text);
}

}  // namespace

Result<KafkaSettings> read_settings(const BackendOptions& options, KafkaSettings base) {
  detail::OptionReader reader("kafka", options);
  if (auto key = reader.text("key")) {
    if (*key == "none" || key->empty()) {
      base.key = KeySource::kNone;
    } else if (*key == "creator") {
      base.key = KeySource::kCreator;
    } else {
      return reader.invalid("key", "is not none or creator");
    }
  }
  if (auto ordering = reader.text("ordering")) {
    if (*ordering == "producer") {
      base.ordering = Ordering::kProducer;
    } else if (*ordering == "none") {
      base.ordering = Ordering::kNone;
    } else {
      return reader.invalid("ordering", "is not producer or none");
    }
  }
  auto timeout = reader.millis("timeout_ms", 0, 3'600'000, base.timeout);
  if (!timeout) return timeout.error();
  base.timeout = *timeout;
  auto assign_wait = reader.millis("assign_wait_ms", 0, 3'600'000, base.assign_wait);
  if (!assign_wait) return assign_wait.error();
  base.assign_wait = *assign_wait;
  auto log_interval = reader.millis("log_interval_ms", 1, 3'600'000, base.log_interval);
  if (!log_interval) return log_interval.error();
  base.log_interval = *log_interval;
  auto brokers =
      reader.number("mock.brokers", 0, 1000, static_cast<std::uint64_t>(base.mock_brokers));
  if (!brokers) return brokers.error();
  base.mock_brokers = static_cast<int>(*brokers);
  auto partitions =
      reader.number("mock.partitions", 1, 1000, static_cast<std::uint64_t>(base.mock_partitions));
  if (!partitions) return partitions.error();
  base.mock_partitions = static_cast<int>(*partitions);
  // The rest are librdkafka's properties, under its names or kafka-python's.
  for (const auto& key : reader.unread()) {
    const std::string& text = options.find(key)->second;
    auto translated = translate_kafka_python(key, text);
    if (!translated) return translated.error();
    if (!*translated) {
      base.properties.insert_or_assign(key, text);  // librdkafka's own name
    } else if ((*translated)->property.empty()) {
      warn_once(key, "kafka: ignoring option '" + key + "': " + std::string((*translated)->note));
    } else {
      base.properties.insert_or_assign((*translated)->property, (*translated)->value);
    }
  }
  return base;
}

Result<std::shared_ptr<Cluster>> Cluster::open(std::string connection, KafkaSettings settings) {
  if (settings.mock_brokers == 0) {
    if (connection.empty()) {
      return Error{ErrorCode::kInvalidArgument, "kafka:// needs HOST:PORT[,HOST:PORT...]"};
    }
    return std::shared_ptr<Cluster>(new Cluster(std::move(connection), std::move(settings)));
  }
  // The mock cluster needs a client of its own to live in.
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, &log_line);
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Error{ErrorCode::kUnavailable, std::string("kafka mock cluster: ") + error.data()};
  }
  rd_kafka_mock_cluster_t* mock = rd_kafka_mock_cluster_new(handle, settings.mock_brokers);
  if (mock == nullptr) {
    rd_kafka_destroy(handle);
    return Error{ErrorCode::kUnavailable, "kafka: could not start the mock cluster"};
  }
  std::shared_ptr<Cluster> cluster(
      new Cluster(rd_kafka_mock_cluster_bootstraps(mock), std::move(settings)));
  cluster->mock_handle_ = handle;
  cluster->mock_ = mock;
  return cluster;
}

Cluster::~Cluster() {
  if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
  if (mock_handle_ != nullptr) rd_kafka_destroy(mock_handle_);
}

void Cluster::ensure_mock_topic(std::string_view topic, int partitions) {
  if (mock_ == nullptr) return;
  const std::lock_guard lock(mutex_);
  if (mock_topics_.contains(topic)) return;
  const std::string name(topic);
  // An existing topic (made by auto-create) is as good as a new one.
  (void)rd_kafka_mock_topic_create(mock_, name.c_str(),
                                   partitions > 0 ? partitions : settings_.mock_partitions, 1);
  mock_topics_.insert(name);
}

Client::~Client() {
  if (handle_ == nullptr) return;
  if (deferred_) {
    destroy_in_background(handle_, destroy_flags_, cluster_);
  } else {
    rd_kafka_destroy_flags(handle_, destroy_flags_);
  }
}

Result<ConfPtr> make_conf(const Cluster& cluster, const BackendOptions& defaults,
                          const BackendOptions& role_properties) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &log_line);
  rd_kafka_conf_set_error_cb(conf.get(), &error_line);
  std::array<char, 512> error{};
  auto set = [&](const std::string& key, const std::string& value) -> Result<void> {
    const auto result =
        rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error.data(), error.size());
    if (result == RD_KAFKA_CONF_UNKNOWN) {
      // Neither librdkafka's nor kafka-python's (those were translated in read_settings).
      warn_once(key, "kafka: ignoring unknown option '" + key + "' (" + error.data() + ")");
      return {};
    }
    if (result != RD_KAFKA_CONF_OK) {
      return Error{ErrorCode::kInvalidArgument,
                   "kafka property " + key + "='" + value + "': " + error.data()};
    }
    return {};
  };
  if (auto done = set("bootstrap.servers", cluster.bootstrap()); !done) return done.error();
  for (const auto* properties : {&defaults, &role_properties}) {
    for (const auto& [key, value] : *properties) {
      if (auto done = set(key, value); !done) return done.error();
    }
  }
  return conf;
}

Result<std::shared_ptr<Client>> make_client(rd_kafka_type_t type, ConfPtr& conf,
                                            std::shared_ptr<Cluster> cluster) {
  std::array<char, 512> error{};
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), error.data(), error.size());
  if (handle == nullptr) {
    return Error{ErrorCode::kInvalidArgument, std::string("kafka client: ") + error.data()};
  }
  (void)conf.release();  // rd_kafka_new owns it now
  return std::make_shared<Client>(handle, std::move(cluster));
}

std::string conf_value(const rd_kafka_conf_t* conf, const char* name) {
  std::size_t size = 0;  // with the terminating NUL
  if (rd_kafka_conf_get(conf, name, nullptr, &size) != RD_KAFKA_CONF_OK || size == 0) return {};
  std::string value(size, '\0');
  if (rd_kafka_conf_get(conf, name, value.data(), &size) != RD_KAFKA_CONF_OK) return {};
  value.resize(std::char_traits<char>::length(value.c_str()));
  return value;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) noexcept {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= left.zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 3'600'000 ? 3'600'000 : static_cast<int>(ms);
}

}  // namespace mlops::orchestration::detail::kafka
