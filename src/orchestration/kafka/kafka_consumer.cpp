// KafkaConsumer: creation, commits and closing. Assignment, rebalances and seek are in
// kafka_consumer_assignment.cpp, poll()'s batches in kafka_consumer_batch.cpp.
#include "orchestration/kafka/kafka_consumer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>

#include "orchestration/kafka/kafka_version.h"

namespace mlops::orchestration::detail::kafka {

std::string own_group_name() {
  static std::atomic<std::uint64_t> counter{0};
  std::random_device random;
  const std::uint64_t salt = (static_cast<std::uint64_t>(random()) << 32) ^ random();
  return "mlops-own-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) +
         "-" + std::to_string(salt);
}

Result<std::string> KafkaConsumer::resolve_group(const Cluster& cluster,
                                                 const ConsumerOptions& options) {
  auto settings = read_settings(options.backend, cluster.settings());
  if (!settings) return settings.error();
  const auto named = settings->properties.find("group.id");
  if (named == settings->properties.end() || named->second.empty()) return options.group;
  if (!options.group.empty() && named->second != options.group) {
    return Error{ErrorCode::kInvalidArgument,
                 "kafka consumer: ConsumerOptions::group '" + options.group +
                     "' and the option group.id (group_id) '" + named->second +
                     "' name different groups; give one of them"};
  }
  return named->second;
}

Result<std::unique_ptr<detail::ConsumerBackend>> KafkaConsumer::create(
    std::shared_ptr<Cluster> cluster, const ConsumerOptions& options) {
  auto settings = read_settings(options.backend, cluster->settings());
  if (!settings) return settings.error();
  if (auto allowed = check_consumer_properties(settings->properties, rd_kafka_version());
      !allowed) {
    return allowed.error();
  }
  // The group is options.group alone (Consumer::create put a group.id/group_id option
  // there, see resolve_group); a group.id left among the properties (the URI's, under a
  // retry reader's own group) must not override it.
  ConsumerOptions effective = options;
  if (effective.group.empty()) {
    auto group = resolve_group(*cluster, effective);
    if (!group) return group.error();
    effective.group = std::move(*group);
  }
  settings->properties.erase("group.id");
  const BackendOptions defaults{
      {"group.id", effective.group.empty() ? own_group_name() : effective.group},
      {"auto.offset.reset", options.offset_reset == OffsetReset::kLatest ? "latest" : "earliest"},
      // At-least-once: only what poll() handed out is stored, only commit() commits.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // So subscribing to a topic nobody has sent to yet works on brokers that auto-create.
      {"allow.auto.create.topics", "true"},
      {"client.id", "mlops-consumer"},
  };
  auto conf = make_conf(*cluster, defaults, settings->properties);
  if (!conf) return conf.error();
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer(cluster, *settings, effective));
  consumer->own_group_ = effective.group.empty();
  // Known from the configuration, so a rebalance never asks librdkafka (see give_back).
  consumer->cooperative_ =
      names_cooperative_assignor(conf_value(conf->get(), "partition.assignment.strategy"));
  rd_kafka_conf_set_opaque(conf->get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaConsumer::on_rebalance);
  auto client = make_client(RD_KAFKA_CONSUMER, *conf, std::move(cluster));
  if (!client) return client.error();
  (*client)->skip_consumer_close();
  // Rebalances, errors and records all come through rd_kafka_consumer_poll.
  (void)rd_kafka_poll_set_consumer((*client)->get());
  consumer->client_ = std::move(*client);
  return std::unique_ptr<detail::ConsumerBackend>(std::move(consumer));
}

bool KafkaConsumer::commit_still_pending() noexcept {
  if (pending_commit_ == nullptr) return false;
  rd_kafka_event_t* event = rd_kafka_queue_poll(pending_commit_, 0);
  if (event == nullptr) return true;
  rd_kafka_event_destroy(event);  // its outcome was reported (kError) when its wait ended
  rd_kafka_queue_destroy(pending_commit_);
  pending_commit_ = nullptr;
  return false;
}

Status KafkaConsumer::commit() noexcept {
  if (client_ == nullptr) return Status::kClosed;
  const rd_kafka_resp_err_t error = commit_offsets(nullptr);
  // Nothing stored since the last commit: nothing to do.
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET)
    return Status::kOk;
  if (error == RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS) return Status::kError;  // logged already
  try {
    log_problem(std::string("commit failed: ") + rd_kafka_err2str(error));
  } catch (...) {
  }
  return Status::kError;
}

rd_kafka_resp_err_t KafkaConsumer::commit_offsets(
    const rd_kafka_topic_partition_list_t* offsets) noexcept {
  // One deferred commit at a time: each would hold the group (and the client) for another
  // session.timeout.ms.
  if (commit_still_pending()) {
    log_problem("commit refused: the previous one still waits for the group coordinator");
    return RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS;
  }
  rd_kafka_t* handle = client_->get();
  // Asynchronous commit on a queue of its own, so the wait has a bound.
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle);
  rd_kafka_resp_err_t error = rd_kafka_commit_queue(handle, offsets, queue, nullptr, nullptr);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_event_t* event =
        rd_kafka_queue_poll(queue, static_cast<int>(settings_.timeout.count()));
    if (event == nullptr) {
      // librdkafka keeps it, deferred while the coordinator is unreachable: keep its queue
      // to learn when it ends.
      pending_commit_ = queue;
      queue = nullptr;
      error = RD_KAFKA_RESP_ERR__TIMED_OUT;
    } else {
      error = rd_kafka_event_error(event);
      rd_kafka_event_destroy(event);
    }
  }
  if (queue != nullptr) rd_kafka_queue_destroy(queue);
  return error;
}

void KafkaConsumer::close() noexcept {
  if (client_ == nullptr) return;
  drop_pending();
  rd_kafka_t* handle = client_->get();
  // Leave the group without committing, within the timeout; the rebalance callback gives
  // the partitions back as the close queue is served.
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle);
  if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(handle, queue)) {
    rd_kafka_error_destroy(error);
  } else {
    const auto deadline = detail::Clock::now() + settings_.timeout;
    while (!rd_kafka_consumer_closed(handle) && remaining_ms(deadline) > 0) {
      if (rd_kafka_event_t* event =
              rd_kafka_queue_poll(queue, std::min(remaining_ms(deadline), 100))) {
        // A revoke not served by the callback comes as an event: give the partitions back.
        if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE) {
          give_back(handle, rd_kafka_event_topic_partition_list(event));
        }
        rd_kafka_event_destroy(event);
      }
    }
  }
  rd_kafka_queue_destroy(queue);
  if (!rd_kafka_consumer_closed(handle)) {
    // Still in the group, most likely held by a commit deferred for an unreachable
    // coordinator: destroying the client would block until that commit expires
    // (session.timeout.ms after it was made). Whoever lets go of the client last hands it to
    // the reaper thread instead (kafka_reaper.h), so neither close() nor a message
    // destructor waits past this bound.
    client_->defer_destroy();
    log_problem(commit_still_pending()
                    ? "could not leave the group within timeout_ms (a commit waits for the group "
                      "coordinator); the client is destroyed in the background once librdkafka "
                      "lets go"
                    : "could not leave the group within timeout_ms; the client is destroyed in "
                      "the background once librdkafka lets go");
  }
  if (pending_commit_ != nullptr) {
    rd_kafka_queue_destroy(pending_commit_);
    pending_commit_ = nullptr;
  }
  // Received messages may still view the client's memory; the last of them destroys it.
  client_.reset();
}

}  // namespace mlops::orchestration::detail::kafka
