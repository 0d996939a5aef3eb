#include "orchestration/kafka/kafka_consumer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>

#include "orchestration/kafka/kafka_version.h"

namespace mlops::orchestration::kafka {
namespace {

// Longest single rd_kafka_consumer_poll while subscribe() waits, so the wait stays bounded.
constexpr int kAssignPollMs = 50;
// How far past its caller's deadline a rebalance callback may wait to pin the end of new
// partitions (so a short receive still pins on a healthy cluster).
constexpr std::chrono::milliseconds kPinSlack{250};
// Records a poll() reserves room for up front (more grow the vector).
constexpr std::size_t kReserveRecords = 1024;
// Payload bytes after which poll() stops taking records (see poll()).
constexpr std::size_t kBatchBytes = std::size_t{256} << 10;

// A group of this consumer alone: a name nobody else picks.
std::string own_group_name() {
  static std::atomic<std::uint64_t> counter{0};
  std::random_device random;
  const std::uint64_t salt = (static_cast<std::uint64_t>(random()) << 32) ^ random();
  return "mlops-own-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) +
         "-" + std::to_string(salt);
}

}  // namespace

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
  if (auto allowed = check_consumer_properties(settings->properties, rd_kafka_version()); !allowed) {
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

void KafkaConsumer::on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t event,
                                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(handle), "COOPERATIVE") == 0;
  if (event == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (self->options_.offset_reset == OffsetReset::kLatest) {
      self->pin_latest(partitions, self->pin_deadline_);
    }
    if (cooperative) {
      if (rd_kafka_error_t* error = rd_kafka_incremental_assign(handle, partitions)) {
        self->log_problem(std::string("assign failed: ") + rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
      }
    } else {
      (void)rd_kafka_assign(handle, partitions);
    }
    ++self->assignments_;
    return;
  }
  // Revoked (or a rebalance error): give the partitions back without committing, so what
  // was handed out but not committed goes to their next owner.
  if (event != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    self->log_problem(std::string("rebalance error: ") + rd_kafka_err2str(event));
  }
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(handle, partitions)) {
      rd_kafka_error_destroy(error);
    }
  } else {
    (void)rd_kafka_assign(handle, nullptr);
  }
}

void KafkaConsumer::pin_latest(rd_kafka_topic_partition_list_t* partitions,
                               detail::Deadline deadline) noexcept {
  // auto.offset.reset=latest resolves the end only when fetching starts, after the call that
  // assigned returned; a record sent in between would be skipped. Pin the end now for
  // partitions the group has no committed offset for: one request for every committed
  // offset, then one for every end (librdkafka asks each leader once, in parallel), both
  // within `deadline`, so a rebalance never holds its caller much past the caller's own
  // timeout. What is not pinned in time is left to auto.offset.reset.
  rd_kafka_t* handle = client_->get();
  if (rd_kafka_committed(handle, partitions, remaining_ms(deadline)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  const std::unique_ptr<rd_kafka_topic_partition_list_t,
                        decltype(&rd_kafka_topic_partition_list_destroy)>
      ends(rd_kafka_topic_partition_list_new(partitions->cnt), &rd_kafka_topic_partition_list_destroy);
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& partition = partitions->elems[i];
    if (partition.offset >= 0) continue;  // committed: the group goes on from there
    // As a ListOffsets timestamp, RD_KAFKA_OFFSET_END asks for the partition's end.
    rd_kafka_topic_partition_list_add(ends.get(), partition.topic, partition.partition)->offset =
        RD_KAFKA_OFFSET_END;
  }
  if (ends->cnt == 0 ||
      rd_kafka_offsets_for_times(handle, ends.get(), remaining_ms(deadline)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  for (int i = 0; i < ends->cnt; ++i) {
    const auto& end = ends->elems[i];
    if (end.err != RD_KAFKA_RESP_ERR_NO_ERROR || end.offset < 0) continue;
    if (auto* partition = rd_kafka_topic_partition_list_find(partitions, end.topic, end.partition)) {
      partition->offset = end.offset;
    }
  }
}

void KafkaConsumer::drop_pending() noexcept {
  // Never handed out, so never stored: they come again from the committed offset.
  for (auto* record : pending_) rd_kafka_message_destroy(record);
  pending_.clear();
}

Result<void> KafkaConsumer::assign(std::span<const std::string> topics) {
  if (client_ == nullptr) return Error{ErrorCode::kUnavailable, "the kafka consumer is closed"};
  // A group follows its topics' partitions by itself (librdkafka refreshes the metadata and
  // the group rebalances). A consumer without a group reads them on every subscribe(), the
  // same list again included, so partitions added since are picked up.
  if (!own_group_ && std::ranges::equal(topics, subscribed_)) return {};
  rd_kafka_t* handle = client_->get();
  drop_pending();
  if (topics.empty()) {
    const rd_kafka_resp_err_t error =
        own_group_ ? rd_kafka_assign(handle, nullptr) : rd_kafka_unsubscribe(handle);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{ErrorCode::kUnavailable, std::string("kafka unsubscribe: ") + rd_kafka_err2str(error)};
    }
    subscribed_.clear();
    return {};
  }
  if (own_group_) {
    auto assigned = assign_directly(topics);
    if (!assigned) return assigned;
    subscribed_.assign(topics.begin(), topics.end());
    return {};
  }
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& topic : topics) {
    cluster_->ensure_mock_topic(topic);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t error = rd_kafka_subscribe(handle, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{ErrorCode::kUnavailable, std::string("kafka subscribe: ") + rd_kafka_err2str(error)};
  }
  subscribed_.assign(topics.begin(), topics.end());
  // Wait (bounded) until the group has assigned partitions, so what is sent after
  // subscribe() returns is seen. Another member must poll to let the group rebalance: past
  // the bound the join goes on in the background and poll() completes it.
  const auto before = assignments_;
  const auto deadline = detail::Clock::now() + settings_.assign_wait;
  pin_deadline_ = deadline + kPinSlack;
  while (assignments_ == before) {
    const int left = remaining_ms(deadline);
    if (left == 0) break;
    if (rd_kafka_message_t* record = rd_kafka_consumer_poll(handle, std::min(left, kAssignPollMs))) {
      pending_.push_back(record);
    }
  }
  return {};
}

Result<KafkaConsumer::PartitionList> KafkaConsumer::read_partitions(
    std::span<const std::string> topics, detail::Deadline deadline) {
  rd_kafka_t* handle = client_->get();
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())),
                     &rd_kafka_topic_partition_list_destroy);
  for (const auto& topic : topics) {
    cluster_->ensure_mock_topic(topic);
    rd_kafka_topic_t* handle_of_topic = rd_kafka_topic_new(handle, topic.c_str(), nullptr);
    int partitions = 0;
    rd_kafka_resp_err_t topic_error = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    // A topic the brokers auto-create on this request has no leader for a moment: ask
    // again until the timeout.
    for (;;) {
      const rd_kafka_metadata_t* metadata = nullptr;
      const rd_kafka_resp_err_t error = rd_kafka_metadata(
          handle, 0, handle_of_topic, &metadata, std::max(remaining_ms(deadline), 1));
      if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_destroy(handle_of_topic);
        return Error{ErrorCode::kUnavailable,
                     "kafka metadata for topic " + topic + ": " + rd_kafka_err2str(error)};
      }
      if (metadata->topic_cnt == 1) {
        partitions = metadata->topics[0].partition_cnt;
        topic_error = metadata->topics[0].err;
      }
      rd_kafka_metadata_destroy(metadata);
      if ((partitions > 0 && topic_error == RD_KAFKA_RESP_ERR_NO_ERROR) ||
          remaining_ms(deadline) == 0) {
        break;
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(remaining_ms(deadline), kAssignPollMs)));
    }
    rd_kafka_topic_destroy(handle_of_topic);
    if (partitions == 0) {
      return Error{ErrorCode::kUnavailable, "kafka topic " + topic + " has no partitions (" +
                                                rd_kafka_err2str(topic_error) +
                                                "): create it, or let the brokers auto-create it"};
    }
    for (int partition = 0; partition < partitions; ++partition) {
      // RD_KAFKA_OFFSET_INVALID: the committed offset, else auto.offset.reset.
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset =
          RD_KAFKA_OFFSET_INVALID;
    }
  }
  return list;
}

Result<void> KafkaConsumer::assign_directly(std::span<const std::string> topics) {
  rd_kafka_t* handle = client_->get();
  const auto deadline = detail::Clock::now() + settings_.timeout;
  auto wanted = read_partitions(topics, deadline);
  if (!wanted) return wanted.error();
  // Partitions kept go on from where they are (no rewind to the committed offset, so no
  // message comes twice); new ones (a new topic, or partitions added to a topic since)
  // start from the committed offset, else offset_reset; those of topics left are dropped.
  rd_kafka_topic_partition_list_t* current_list = nullptr;
  if (const auto error = rd_kafka_assignment(handle, &current_list); error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{ErrorCode::kUnavailable, std::string("kafka assignment: ") + rd_kafka_err2str(error)};
  }
  const PartitionList current(current_list, &rd_kafka_topic_partition_list_destroy);
  const PartitionList added(rd_kafka_topic_partition_list_new(wanted->get()->cnt),
                            &rd_kafka_topic_partition_list_destroy);
  const PartitionList removed(rd_kafka_topic_partition_list_new(current->cnt),
                              &rd_kafka_topic_partition_list_destroy);
  for (int i = 0; i < wanted->get()->cnt; ++i) {
    const auto& partition = wanted->get()->elems[i];
    if (rd_kafka_topic_partition_list_find(current.get(), partition.topic, partition.partition) == nullptr) {
      rd_kafka_topic_partition_list_add(added.get(), partition.topic, partition.partition)->offset =
          partition.offset;
    }
  }
  for (int i = 0; i < current->cnt; ++i) {
    const auto& partition = current->elems[i];
    if (rd_kafka_topic_partition_list_find(wanted->get(), partition.topic, partition.partition) == nullptr) {
      rd_kafka_topic_partition_list_add(removed.get(), partition.topic, partition.partition);
    }
  }
  // Incremental: a consumer without a group subscription may change its assignment piece
  // by piece, leaving the kept partitions' fetch positions alone.
  if (removed->cnt > 0) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(handle, removed.get())) {
      std::string text = std::string("kafka unassign: ") + rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      return Error{ErrorCode::kUnavailable, std::move(text)};
    }
  }
  if (added->cnt == 0) return {};
  if (options_.offset_reset == OffsetReset::kLatest) pin_latest(added.get(), deadline);
  if (rd_kafka_error_t* error = rd_kafka_incremental_assign(handle, added.get())) {
    std::string text = std::string("kafka assign: ") + rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return Error{ErrorCode::kUnavailable, std::move(text)};
  }
  return {};
}

bool KafkaConsumer::accept(rd_kafka_message_t* record) noexcept {
  if (record->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    try {
      batch_.push_back(record);
      return true;
    } catch (...) {
      // Not handed out: comes again from the committed offset.
    }
  } else if (record->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    try {
      log_problem(std::string("poll: ") + rd_kafka_message_errstr(record));
    } catch (...) {
    }
  }
  rd_kafka_message_destroy(record);
  return false;
}

std::string_view KafkaConsumer::topic_name(const rd_kafka_topic_t* topic) {
  const char* name = rd_kafka_topic_name(topic);
  // Records come in runs of one topic: compare with the last name before searching.
  if (!last_topic_name_.empty() && std::strcmp(name, last_topic_name_.data()) == 0) {
    return last_topic_name_;
  }
  auto known = topic_names_.find(std::string_view(name));
  if (known == topic_names_.end()) known = topic_names_.emplace(name).first;
  last_topic_name_ = *known;  // a view of a null-terminated std::string
  return last_topic_name_;
}

namespace {

/// What keeps one poll()'s payloads alive, shared by every Delivery of that poll: the
/// records whose payloads are 8-byte aligned (handed out in place, zero copy) and one arena
/// holding 8-byte aligned copies of the others (FlatBuffers reads misaligned bytes only
/// with undefined behaviour). One allocation or three per batch, not one per message; a
/// message kept alive keeps its batch (librdkafka's records of one fetch share its buffer
/// anyway).
struct Batch {
  std::shared_ptr<Client> client;           // the kept records' memory is the client's
  std::vector<rd_kafka_message_t*> kept;    // destroyed with the batch
  std::unique_ptr<std::uint64_t[]> arena;   // copies, each at an 8-byte boundary
  Batch() = default;
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  ~Batch() {
    for (auto* record : kept) rd_kafka_message_destroy(record);
  }
};

constexpr std::size_t kAlignment = alignof(std::uint64_t);

// Whether a record's payload is handed out in place (empty ones need no memory).
bool in_place(const rd_kafka_message_t* record) noexcept {
  return record->len == 0 || reinterpret_cast<std::uintptr_t>(record->payload) % kAlignment == 0;
}

// Arena words a copy of `bytes` takes (each copy starts at an 8-byte boundary).
std::size_t words_for(std::size_t bytes) noexcept { return (bytes + kAlignment - 1) / kAlignment; }

}  // namespace

bool KafkaConsumer::hand_out(std::vector<detail::Delivery>& out) noexcept {
  if (batch_.empty()) return false;
  std::shared_ptr<Batch> batch;
  try {
    // Everything that allocates comes first, so handing out cannot fail half-way.
    std::size_t words = 0;  // of the arena
    std::size_t kept = 0;
    for (const auto* record : batch_) {
      (void)topic_name(record->rkt);  // known from now on: looking it up does not allocate
      if (in_place(record)) {
        ++kept;
      } else {
        words += words_for(record->len);
      }
    }
    batch = std::make_shared<Batch>();
    if (kept > 0) {
      batch->client = client_;
      batch->kept.reserve(kept);
    }
    if (words > 0) batch->arena = std::make_unique_for_overwrite<std::uint64_t[]>(words);
    out.reserve(out.size() + batch_.size());
  } catch (...) {
    // Nothing handed out, so nothing stored: the records come again from the committed
    // offset (after a restart or a rebalance).
    for (auto* record : batch_) rd_kafka_message_destroy(record);
    batch_.clear();
    try {
      log_problem("out of memory: a batch of records was dropped uncommitted");
    } catch (...) {
    }
    return false;
  }
  std::uint64_t* cursor = batch->arena.get();
  for (auto* record : batch_) {
    detail::Delivery delivery;
    delivery.topic = topic_name(record->rkt);
    delivery.partition = record->partition;
    const auto* payload = static_cast<const std::uint8_t*>(record->payload);
    if (in_place(record)) {
      delivery.bytes = {payload, record->len};
      batch->kept.push_back(record);  // reserved
    } else {
      std::memcpy(cursor, payload, record->len);
      delivery.bytes = {reinterpret_cast<const std::uint8_t*>(cursor), record->len};
      cursor += words_for(record->len);
    }
    delivery.owner = batch;
    out.push_back(std::move(delivery));  // reserved
  }
  // Handed out: their offsets may be committed. Offsets grow within a partition, so only
  // the last record of each run of one partition needs storing.
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    const rd_kafka_message_t* record = batch_[i];
    const rd_kafka_message_t* next = i + 1 < batch_.size() ? batch_[i + 1] : nullptr;
    if (next == nullptr || next->rkt != record->rkt || next->partition != record->partition) {
      // A partition revoked meanwhile refuses it: its records go to the next owner.
      (void)rd_kafka_offset_store(record->rkt, record->partition, record->offset);
    }
  }
  // The copied records are done with; the kept ones are the batch's.
  for (auto* record : batch_) {
    if (!in_place(record)) rd_kafka_message_destroy(record);
  }
  batch_.clear();
  return true;
}

Status KafkaConsumer::poll(std::vector<detail::Delivery>& out, std::size_t max,
                           detail::Deadline deadline) noexcept {
  if (client_ == nullptr) return Status::kClosed;
  if (max == 0) return Status::kOk;
  rd_kafka_t* handle = client_->get();
  pin_deadline_ = deadline + kPinSlack;  // for rebalances served below
  batch_.clear();
  try {
    batch_.reserve(std::min(max, kReserveRecords));
  } catch (...) {
    return Status::kError;
  }
  while (batch_.size() < max && !pending_.empty()) {
    rd_kafka_message_t* record = pending_.front();
    pending_.pop_front();
    (void)accept(record);
  }
  std::size_t bytes = 0;
  for (const auto* record : batch_) bytes += record->len;
  // A batch stops at about kBatchBytes of payload: what one kept message can keep alive is
  // bounded, and the copies stay in cache until Consumer verifies them.
  while (batch_.size() < max && bytes < kBatchBytes) {
    // Wait only for the first record; then take what is ready.
    const int wait = batch_.empty() ? remaining_ms(deadline) : 0;
    rd_kafka_message_t* record = rd_kafka_consumer_poll(handle, wait);
    if (record == nullptr) {
      if (!batch_.empty()) break;
      if (detail::Clock::now() >= deadline) return Status::kTimeout;
      continue;
    }
    if (accept(record)) bytes += record->len;
  }
  return hand_out(out) ? Status::kOk : Status::kError;
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
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET) return Status::kOk;
  if (error == RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS) return Status::kError;  // logged already
  try {
    log_problem(std::string("commit failed: ") + rd_kafka_err2str(error));
  } catch (...) {
  }
  return Status::kError;
}

rd_kafka_resp_err_t KafkaConsumer::commit_offsets(const rd_kafka_topic_partition_list_t* offsets) noexcept {
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
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(settings_.timeout.count()));
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

Result<void> KafkaConsumer::seek(std::string_view topic, bool to_latest) {
  if (client_ == nullptr) return Error{ErrorCode::kUnavailable, "the kafka consumer is closed"};
  const std::string name(topic);
  if (std::find(subscribed_.begin(), subscribed_.end(), name) == subscribed_.end()) {
    return Error{ErrorCode::kInvalidArgument, "not subscribed to topic '" + name + "'"};
  }
  rd_kafka_t* handle = client_->get();
  const auto deadline = detail::Clock::now() + settings_.timeout;
  auto partitions = read_partitions(std::span(&name, 1), deadline);
  if (!partitions) return partitions.error();
  rd_kafka_topic_partition_list_t* list = partitions->get();
  // As a ListOffsets timestamp, BEGINNING/END ask for the partition's first/next offset.
  for (int i = 0; i < list->cnt; ++i) {
    list->elems[i].offset = to_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
  }
  if (const auto error = rd_kafka_offsets_for_times(handle, list, remaining_ms(deadline));
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{error == RD_KAFKA_RESP_ERR__TIMED_OUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                 "kafka seek: the offsets of topic '" + name + "' are not known: " + rd_kafka_err2str(error)};
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& partition = list->elems[i];
    if (partition.err != RD_KAFKA_RESP_ERR_NO_ERROR || partition.offset < 0) {
      return Error{ErrorCode::kUnavailable, "kafka seek: the offset of '" + name + "' partition " +
                                                std::to_string(partition.partition) + " is not known: " +
                                                rd_kafka_err2str(partition.err)};
    }
  }
  // Records polled while subscribe() waited come from the old place.
  std::erase_if(pending_, [&](rd_kafka_message_t* record) {
    if (record->rkt == nullptr || name != rd_kafka_topic_name(record->rkt)) return false;
    rd_kafka_message_destroy(record);
    return true;
  });
  // The group's offsets first (every partition: members that get one later start there)...
  if (const auto error = commit_offsets(list); error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{error == RD_KAFKA_RESP_ERR__TIMED_OUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                 "kafka seek: committing the new offsets of '" + name + "' failed: " + rd_kafka_err2str(error)};
  }
  // ...then this member's fetch positions in the partitions it holds now (seeking purges
  // what was fetched from the old place), and their stored offsets, so the next commit
  // does not put the group back.
  rd_kafka_topic_partition_list_t* assigned_raw = nullptr;
  if (const auto error = rd_kafka_assignment(handle, &assigned_raw); error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{ErrorCode::kUnavailable, std::string("kafka seek: ") + rd_kafka_err2str(error)};
  }
  const PartitionList assigned(assigned_raw, &rd_kafka_topic_partition_list_destroy);
  const PartitionList mine(rd_kafka_topic_partition_list_new(list->cnt), &rd_kafka_topic_partition_list_destroy);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& partition = list->elems[i];
    if (rd_kafka_topic_partition_list_find(assigned.get(), partition.topic, partition.partition) != nullptr) {
      rd_kafka_topic_partition_list_add(mine.get(), partition.topic, partition.partition)->offset =
          partition.offset;
    }
  }
  if (mine->cnt == 0) return {};
  if (rd_kafka_error_t* error = rd_kafka_seek_partitions(handle, mine.get(), remaining_ms(deadline))) {
    std::string text = std::string("kafka seek: ") + rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return Error{ErrorCode::kUnavailable, std::move(text)};
  }
  (void)rd_kafka_offsets_store(handle, mine.get());
  return {};
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
      if (rd_kafka_event_t* event = rd_kafka_queue_poll(queue, std::min(remaining_ms(deadline), 100))) {
        // A revoke not served by the callback comes as an event: give the partitions back.
        if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE) {
          if (std::strcmp(rd_kafka_rebalance_protocol(handle), "COOPERATIVE") == 0) {
            if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(
                    handle, rd_kafka_event_topic_partition_list(event))) {
              rd_kafka_error_destroy(error);
            }
          } else {
            (void)rd_kafka_assign(handle, nullptr);
          }
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

}  // namespace mlops::orchestration::kafka
