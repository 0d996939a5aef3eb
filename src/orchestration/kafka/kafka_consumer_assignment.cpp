// KafkaConsumer's assignment: subscribing, rebalances (pinning new partitions at
// "latest"), reading the partitions of a consumer without a group, and seek.
#include "orchestration/kafka/kafka_consumer.h"

#include <algorithm>
#include <thread>

namespace mlops::orchestration::detail::kafka {
namespace {

// Longest single rd_kafka_consumer_poll while subscribe() waits, so the wait stays bounded.
constexpr int kAssignPollMs = 50;

}  // namespace

void KafkaConsumer::on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t event,
                                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  if (rd_kafka_consumer_closed(handle)) return;  // see give_back
  if (event == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (self->options_.offset_reset == OffsetReset::kLatest) {
      self->pin_latest(partitions, self->pin_deadline_);
    }
    if (self->cooperative_) {
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
  self->give_back(handle, partitions);
}

void KafkaConsumer::give_back(rd_kafka_t* handle,
                              rd_kafka_topic_partition_list_t* partitions) const noexcept {
  // librdkafka makes these calls (and rd_kafka_rebalance_protocol) requests to its group
  // handler and waits for the answer without a bound; once the handler has terminated no
  // one answers, and the call waits forever (librdkafka issues #4041, #4884; seen in the
  // churn test as close() hanging). A terminated handler has nothing left to give back.
  if (rd_kafka_consumer_closed(handle)) return;
  if (cooperative_) {
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
  if (rd_kafka_committed(handle, partitions, remaining_ms(deadline)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  const std::unique_ptr<rd_kafka_topic_partition_list_t,
                        decltype(&rd_kafka_topic_partition_list_destroy)>
      ends(rd_kafka_topic_partition_list_new(partitions->cnt),
           &rd_kafka_topic_partition_list_destroy);
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& partition = partitions->elems[i];
    if (partition.offset >= 0) continue;  // committed: the group goes on from there
    // As a ListOffsets timestamp, RD_KAFKA_OFFSET_END asks for the partition's end.
    rd_kafka_topic_partition_list_add(ends.get(), partition.topic, partition.partition)->offset =
        RD_KAFKA_OFFSET_END;
  }
  if (ends->cnt == 0 || rd_kafka_offsets_for_times(handle, ends.get(), remaining_ms(deadline)) !=
                            RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  for (int i = 0; i < ends->cnt; ++i) {
    const auto& end = ends->elems[i];
    if (end.err != RD_KAFKA_RESP_ERR_NO_ERROR || end.offset < 0) continue;
    if (auto* partition =
            rd_kafka_topic_partition_list_find(partitions, end.topic, end.partition)) {
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
      return Error{ErrorCode::kUnavailable,
                   std::string("kafka unsubscribe: ") + rd_kafka_err2str(error)};
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
    return Error{ErrorCode::kUnavailable,
                 std::string("kafka subscribe: ") + rd_kafka_err2str(error)};
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
    if (rd_kafka_message_t* record =
            rd_kafka_consumer_poll(handle, std::min(left, kAssignPollMs))) {
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
      const rd_kafka_resp_err_t error = rd_kafka_metadata(handle, 0, handle_of_topic, &metadata,
                                                          std::max(remaining_ms(deadline), 1));
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
  if (const auto error = rd_kafka_assignment(handle, &current_list);
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{ErrorCode::kUnavailable,
                 std::string("kafka assignment: ") + rd_kafka_err2str(error)};
  }
  const PartitionList current(current_list, &rd_kafka_topic_partition_list_destroy);
  const PartitionList added(rd_kafka_topic_partition_list_new(wanted->get()->cnt),
                            &rd_kafka_topic_partition_list_destroy);
  const PartitionList removed(rd_kafka_topic_partition_list_new(current->cnt),
                              &rd_kafka_topic_partition_list_destroy);
  for (int i = 0; i < wanted->get()->cnt; ++i) {
    const auto& partition = wanted->get()->elems[i];
    if (rd_kafka_topic_partition_list_find(current.get(), partition.topic, partition.partition) ==
        nullptr) {
      rd_kafka_topic_partition_list_add(added.get(), partition.topic, partition.partition)->offset =
          partition.offset;
    }
  }
  for (int i = 0; i < current->cnt; ++i) {
    const auto& partition = current->elems[i];
    if (rd_kafka_topic_partition_list_find(wanted->get(), partition.topic, partition.partition) ==
        nullptr) {
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
    return Error{
        error == RD_KAFKA_RESP_ERR__TIMED_OUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
        "kafka seek: the offsets of topic '" + name +
            "' are not known: " + rd_kafka_err2str(error)};
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& partition = list->elems[i];
    if (partition.err != RD_KAFKA_RESP_ERR_NO_ERROR || partition.offset < 0) {
      return Error{ErrorCode::kUnavailable,
                   "kafka seek: the offset of '" + name + "' partition " +
                       std::to_string(partition.partition) +
                       " is not known: " + rd_kafka_err2str(partition.err)};
    }
  }
  return move_group(name, list, deadline);
}

Result<void> KafkaConsumer::move_group(const std::string& name,
                                       const rd_kafka_topic_partition_list_t* list,
                                       detail::Deadline deadline) {
  rd_kafka_t* handle = client_->get();
  // Records polled while subscribe() waited come from the old place.
  std::erase_if(pending_, [&](rd_kafka_message_t* record) {
    if (record->rkt == nullptr || name != rd_kafka_topic_name(record->rkt)) return false;
    rd_kafka_message_destroy(record);
    return true;
  });
  // The group's offsets first (every partition: members that get one later start there)...
  if (const auto error = commit_offsets(list); error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{
        error == RD_KAFKA_RESP_ERR__TIMED_OUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
        "kafka seek: committing the new offsets of '" + name +
            "' failed: " + rd_kafka_err2str(error)};
  }
  // ...then this member's fetch positions in the partitions it holds now (seeking purges
  // what was fetched from the old place), and their stored offsets, so the next commit
  // does not put the group back.
  rd_kafka_topic_partition_list_t* assigned_raw = nullptr;
  if (const auto error = rd_kafka_assignment(handle, &assigned_raw);
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{ErrorCode::kUnavailable, std::string("kafka seek: ") + rd_kafka_err2str(error)};
  }
  const PartitionList assigned(assigned_raw, &rd_kafka_topic_partition_list_destroy);
  const PartitionList mine(rd_kafka_topic_partition_list_new(list->cnt),
                           &rd_kafka_topic_partition_list_destroy);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& partition = list->elems[i];
    if (rd_kafka_topic_partition_list_find(assigned.get(), partition.topic, partition.partition) !=
        nullptr) {
      rd_kafka_topic_partition_list_add(mine.get(), partition.topic, partition.partition)->offset =
          partition.offset;
    }
  }
  if (mine->cnt == 0) return {};
  if (rd_kafka_error_t* error =
          rd_kafka_seek_partitions(handle, mine.get(), remaining_ms(deadline))) {
    std::string text = std::string("kafka seek: ") + rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return Error{ErrorCode::kUnavailable, std::move(text)};
  }
  (void)rd_kafka_offsets_store(handle, mine.get());
  return {};
}

}  // namespace mlops::orchestration::detail::kafka
