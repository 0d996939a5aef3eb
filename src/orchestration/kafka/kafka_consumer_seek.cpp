// KafkaConsumer::seek_to: Consumer::seek to a time or past a message. Kafka's own record
// timestamps are the send times, not the messages' stamps, and ids are in the payload, so
// each partition is read from its first offset until a record starts the replay: a bounded
// scan (the backend's timeout) with a client of its own, so this member's fetch positions
// and the group stay as they are until every start is known.

#include <algorithm>
#include <string>
#include <vector>

#include "orchestration/kafka/kafka_consumer.h"

namespace mlops::orchestration::detail::kafka {

namespace {

constexpr int kScanPollMs = 100;  // one wait of the scan's poll loop

Error seek_error(rd_kafka_resp_err_t error, const std::string& what) {
  return Error{
      error == RD_KAFKA_RESP_ERR__TIMED_OUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
      "kafka seek: " + what + ": " + rd_kafka_err2str(error) + " (the group did not move)"};
}

}  // namespace

Result<std::uint64_t> KafkaConsumer::seek_to(std::string_view topic,
                                             const detail::SeekProbe& probe) {
  if (client_ == nullptr) return Error{ErrorCode::kUnavailable, "the kafka consumer is closed"};
  const std::string name(topic);
  if (std::find(subscribed_.begin(), subscribed_.end(), name) == subscribed_.end()) {
    return Error{ErrorCode::kInvalidArgument, "not subscribed to topic '" + name + "'"};
  }
  const auto deadline = detail::Clock::now() + settings_.timeout;
  auto partitions = read_partitions(std::span(&name, 1), deadline);
  if (!partitions) return partitions.error();
  rd_kafka_topic_partition_list_t* list = partitions->get();
  std::uint64_t passed = 0;
  if (auto found = find_starts(list, probe, deadline, passed); !found) return found.error();
  if (auto moved = move_group(name, list, deadline); !moved) return moved.error();
  return passed;
}

Result<void> KafkaConsumer::find_starts(rd_kafka_topic_partition_list_t* list,
                                        const detail::SeekProbe& probe, detail::Deadline deadline,
                                        std::uint64_t& passed) {
  // The first and next offsets of each partition: those with nothing between start at
  // their end, the others are read from their first.
  struct Scan {
    std::int32_t partition;
    std::int64_t end;
    bool placed;
  };
  std::vector<Scan> scans;
  const PartitionList reads(rd_kafka_topic_partition_list_new(list->cnt),
                            &rd_kafka_topic_partition_list_destroy);
  for (int i = 0; i < list->cnt; ++i) {
    auto& partition = list->elems[i];
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (const auto error =
            rd_kafka_query_watermark_offsets(client_->get(), partition.topic, partition.partition,
                                             &low, &high, remaining_ms(deadline));
        error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return seek_error(error, "the offsets of '" + std::string(partition.topic) + "' partition " +
                                   std::to_string(partition.partition) + " are not known");
    }
    partition.offset = high;
    scans.push_back(Scan{partition.partition, high, low >= high});
    if (low < high) {
      rd_kafka_topic_partition_list_add(reads.get(), partition.topic, partition.partition)->offset =
          low;
    }
  }
  if (reads->cnt == 0) return {};
  // A client of a group of its own (librdkafka's consumer needs one): it reads by
  // assignment, so it never joins it, and commits nothing. These settings win over the
  // endpoint's: the scan depends on them.
  BackendOptions properties = settings_.properties;
  properties["group.id"] = own_group_name();
  properties["enable.auto.commit"] = "false";
  properties["enable.auto.offset.store"] = "false";
  properties["enable.partition.eof"] = "true";   // a partition read to its end says so
  properties["auto.offset.reset"] = "earliest";  // a first offset retention removed: the next
  auto conf = make_conf(*cluster_, {{"client.id", "mlops-seek-scan"}}, properties);
  if (!conf) return conf.error();
  auto client = make_client(RD_KAFKA_CONSUMER, *conf, cluster_);
  if (!client) return client.error();
  rd_kafka_t* scanner = (*client)->get();
  (void)rd_kafka_poll_set_consumer(scanner);
  if (const auto error = rd_kafka_assign(scanner, reads.get());
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return seek_error(error, "reading '" + std::string(list->elems[0].topic) + "'");
  }
  auto unplaced =
      std::count_if(scans.begin(), scans.end(), [](const Scan& scan) { return !scan.placed; });
  while (unplaced > 0 && detail::Clock::now() < deadline) {
    rd_kafka_message_t* record =
        rd_kafka_consumer_poll(scanner, std::min(kScanPollMs, remaining_ms(deadline)));
    if (record == nullptr) continue;
    auto scan = std::find_if(scans.begin(), scans.end(),
                             [&](const Scan& each) { return each.partition == record->partition; });
    const bool eof = record->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
    if (scan != scans.end() && !scan->placed &&
        (record->err == RD_KAFKA_RESP_ERR_NO_ERROR || eof)) {
      auto& offset = list->elems[scan - scans.begin()].offset;
      detail::SeekPlace place = detail::SeekPlace::kBefore;
      if (eof) {
        offset = std::max(record->offset, scan->end);  // read to its end: starts there
        scan->placed = true;
      } else {
        place = probe({static_cast<const std::uint8_t*>(record->payload), record->len});
        if (place != detail::SeekPlace::kStart) ++passed;
        if (place != detail::SeekPlace::kBefore || record->offset + 1 >= scan->end) {
          offset = place == detail::SeekPlace::kStart ? record->offset : record->offset + 1;
          scan->placed = true;
        }
      }
      if (scan->placed) --unplaced;
    }
    rd_kafka_message_destroy(record);
  }
  (void)rd_kafka_consumer_close(scanner);  // no group: nothing to leave, returns at once
  (*client)->skip_consumer_close();
  if (unplaced > 0) {
    return seek_error(RD_KAFKA_RESP_ERR__TIMED_OUT,
                      "reading '" + std::string(list->elems[0].topic) + "' for the start");
  }
  return {};
}

}  // namespace mlops::orchestration::detail::kafka
