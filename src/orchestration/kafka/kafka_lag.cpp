// KafkaAdmin::lag(): per topic the partitions' watermarks, per group its committed offsets.
// Reads only: ListConsumerGroupOffsets is an OffsetFetch, which joins no group.

#include <algorithm>
#include <array>
#include <memory>

#include "orchestration/kafka/kafka_admin.h"

namespace mlops::orchestration::detail::kafka {
namespace {

struct Partition {
  std::int32_t id = 0;
  std::int64_t low = 0;
  std::int64_t high = 0;
};

// One admin request's plumbing: options with the timeout, a queue, and the event it answers.
class AdminCall {
 public:
  AdminCall(rd_kafka_t* client, rd_kafka_admin_op_t op, int timeout_ms)
      : timeout_ms_(timeout_ms),
        options_(rd_kafka_AdminOptions_new(client, op)),
        queue_(rd_kafka_queue_new(client)) {
    std::array<char, 256> text{};
    (void)rd_kafka_AdminOptions_set_request_timeout(options_, timeout_ms, text.data(), text.size());
  }
  AdminCall(const AdminCall&) = delete;
  AdminCall& operator=(const AdminCall&) = delete;
  ~AdminCall() {
    if (event_ != nullptr) rd_kafka_event_destroy(event_);
    rd_kafka_queue_destroy(queue_);
    rd_kafka_AdminOptions_destroy(options_);
  }
  [[nodiscard]] rd_kafka_AdminOptions_t* options() const noexcept { return options_; }
  [[nodiscard]] rd_kafka_queue_t* queue() const noexcept { return queue_; }
  /// Waits for the answer. @return the event, or an Error saying why there is none.
  Result<rd_kafka_event_t*> wait(const std::string& what) {
    // The request times out on its own by then; the margin covers the reply's way back.
    event_ = rd_kafka_queue_poll(queue_, timeout_ms_ + 1000);
    if (event_ == nullptr) return Error{ErrorCode::kTimeout, "kafka " + what + ": no answer"};
    if (rd_kafka_event_error(event_) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{rd_kafka_event_error(event_) == RD_KAFKA_RESP_ERR__TIMED_OUT
                       ? ErrorCode::kTimeout
                       : ErrorCode::kUnavailable,
                   "kafka " + what + ": " + rd_kafka_event_error_string(event_)};
    }
    return event_;
  }

 private:
  int timeout_ms_;
  rd_kafka_AdminOptions_t* options_;
  rd_kafka_queue_t* queue_;
  rd_kafka_event_t* event_ = nullptr;
};

Result<std::vector<std::string>> list_groups(rd_kafka_t* client, int timeout_ms) {
  AdminCall call(client, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_ms);
  rd_kafka_ListConsumerGroups(client, call.options(), call.queue());
  auto event =
      call.wait("list consumer groups (name the groups where the brokers cannot list them)");
  if (!event) return event.error();
  const auto* result = rd_kafka_event_ListConsumerGroups_result(*event);
  std::size_t count = 0;
  const auto** listings = rd_kafka_ListConsumerGroups_result_valid(result, &count);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < count; ++i)
    names.emplace_back(rd_kafka_ConsumerGroupListing_group_id(listings[i]));
  std::size_t errors = 0;
  const auto** failures = rd_kafka_ListConsumerGroups_result_errors(result, &errors);
  if (names.empty() && errors > 0) {
    return Error{ErrorCode::kUnavailable, std::string("kafka list consumer groups: ") +
                                              rd_kafka_error_string(failures[0]) +
                                              " (name the groups instead)"};
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The group's committed offset per partition of `topic` (absent: none committed).
Result<std::vector<std::optional<std::int64_t>>> committed_offsets(
    rd_kafka_t* client, int timeout_ms, const std::string& group, const std::string& topic,
    const std::vector<Partition>& partitions) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const auto& partition : partitions)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition.id);
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list);
  rd_kafka_topic_partition_list_destroy(list);
  AdminCall call(client, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms);
  rd_kafka_ListConsumerGroupOffsets(client, &request, 1, call.options(), call.queue());
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  auto event = call.wait("committed offsets of group " + group);
  if (!event) return event.error();
  std::size_t count = 0;
  const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(*event), &count);
  std::vector<std::optional<std::int64_t>> offsets(partitions.size());
  for (std::size_t g = 0; g < count; ++g) {
    if (const auto* error = rd_kafka_group_result_error(groups[g]); error != nullptr) {
      return Error{ErrorCode::kUnavailable, "kafka committed offsets of group " + group + ": " +
                                                rd_kafka_error_string(error)};
    }
    const auto* found = rd_kafka_group_result_partitions(groups[g]);
    for (int i = 0; found != nullptr && i < found->cnt; ++i) {
      const auto& element = found->elems[i];
      if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR || element.offset < 0) continue;
      for (std::size_t p = 0; p < partitions.size(); ++p) {
        if (partitions[p].id == element.partition) offsets[p] = element.offset;
      }
    }
  }
  return offsets;
}

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const noexcept {
    rd_kafka_metadata_destroy(metadata);
  }
};

}  // namespace

Result<std::vector<TopicLag>> KafkaAdmin::lag(
    std::string_view topic, const std::optional<std::vector<std::string>>& groups) {
  auto names = topics();
  if (!names) return names.error();
  if (!topic.empty()) {
    if (std::find(names->begin(), names->end(), topic) == names->end()) {
      return Error{ErrorCode::kNotFound, "kafka brokers " + cluster_->bootstrap() +
                                             " have no topic '" + std::string(topic) + "'"};
    }
    *names = {std::string(topic)};
  }
  const std::lock_guard lock(mutex_);
  rd_kafka_t* client = client_->get();
  const int timeout = static_cast<int>(cluster_->settings().timeout.count());
  std::vector<std::string> group_names = groups.value_or(std::vector<std::string>{});
  const bool named = groups.has_value();
  if (!named) {
    auto listed = list_groups(client, timeout);
    if (!listed) return listed.error();
    group_names = std::move(*listed);
  }
  std::vector<TopicLag> result;
  for (const auto& name : *names) {
    rd_kafka_topic_t* handle = rd_kafka_topic_new(client, name.c_str(), nullptr);
    const rd_kafka_metadata_t* raw = nullptr;
    const auto error = rd_kafka_metadata(client, 0, handle, &raw, timeout);
    rd_kafka_topic_destroy(handle);
    const std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> metadata(raw);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR || metadata->topic_cnt != 1) {
      return Error{ErrorCode::kUnavailable,
                   "kafka metadata of topic " + name + ": " + rd_kafka_err2str(error)};
    }
    std::vector<Partition> partitions;
    TopicLag lag;
    lag.topic = name;
    for (int p = 0; p < metadata->topics[0].partition_cnt; ++p) {
      Partition partition{metadata->topics[0].partitions[p].id, 0, 0};
      const auto got = rd_kafka_query_watermark_offsets(client, name.c_str(), partition.id,
                                                        &partition.low, &partition.high, timeout);
      if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error{
            got == RD_KAFKA_RESP_ERR__TIMED_OUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
            "kafka watermarks of " + name + ": " + rd_kafka_err2str(got)};
      }
      lag.start += static_cast<std::uint64_t>(partition.low);
      lag.end += static_cast<std::uint64_t>(partition.high);
      lag.messages += static_cast<std::uint64_t>(partition.high - partition.low);
      partitions.push_back(partition);
    }
    for (const auto& group : group_names) {
      auto offsets = committed_offsets(client, timeout, group, name, partitions);
      if (!offsets) return offsets.error();
      GroupLag entry{group, std::nullopt, 0};
      for (std::size_t p = 0; p < partitions.size(); ++p) {
        // A partition the group never committed in counts from its oldest message.
        const std::int64_t from =
            std::max((*offsets)[p].value_or(partitions[p].low), partitions[p].low);
        if ((*offsets)[p]) {
          entry.committed =
              entry.committed.value_or(0) + static_cast<std::uint64_t>(*(*offsets)[p]);
        }
        entry.lag +=
            static_cast<std::uint64_t>(std::max<std::int64_t>(partitions[p].high - from, 0));
      }
      // A listed group that never committed in this topic is another topic's reader.
      if (named || entry.committed) lag.groups.push_back(std::move(entry));
    }
    result.push_back(std::move(lag));
  }
  return result;
}

}  // namespace mlops::orchestration::detail::kafka
