#pragma once
// A Kafka consumer: a member of a consumer group, at-least-once.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "orchestration/backend.h"
#include "orchestration/kafka/kafka_client.h"
#include "orchestration/log_limiter.h"

namespace mlops::orchestration::detail::kafka {

/// A group of one client alone: a name nobody else picks.
std::string own_group_name();

/// A consumer without a group (ConsumerOptions::group empty) is a group of its own: like
/// kafka-python's group_id=None it reads every partition of its topics directly, with no
/// group join (it starts at once), committing under a generated group id. Every
/// subscribe() (with the same topics too) reads the topics' partitions again: partitions
/// added to a topic since are picked up, and those it reads already keep their place.
/// Offsets are stored only for records poll() hands out and committed only by commit()
/// (enable.auto.commit and enable.auto.offset.store are off), so a consumer that stops
/// between receive and commit leaves its records to the group. poll() hands out views of
/// librdkafka's own payload memory where it is 8-byte aligned, and of 8-byte aligned copies
/// where it is not (FlatBuffers needs aligned reads); every Delivery of one poll() shares
/// one owner, which holds those records (and the client) and the copies' one arena, so a
/// batch costs one to three allocations however many records it has. Rebalances (eager or
/// cooperative) are served inside poll(); a group that starts at "latest" pins the end of each new
/// partition when it is assigned, so everything sent after subscribe() returned is seen. Pinning
/// asks once for all committed offsets and once for all ends, within the deadline of the call that
/// serves the rebalance plus 250 ms; past that, auto.offset.reset=latest resolves the end itself.
class KafkaConsumer final : public detail::ConsumerBackend {
 public:
  static Result<std::unique_ptr<detail::ConsumerBackend>> create(std::shared_ptr<Cluster> cluster,
                                                                 const ConsumerOptions& options);
  /// This consumer's group: options.group, or else a group.id (group_id) given among
  /// options.backend or the URI's options. kInvalidArgument if both name one and differ.
  static Result<std::string> resolve_group(const Cluster& cluster, const ConsumerOptions& options);
  ~KafkaConsumer() override { close(); }
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  Result<void> assign(std::span<const std::string> topics) override;
  Status poll(std::vector<detail::Delivery>& out, std::size_t max,
              detail::Deadline deadline) noexcept override;
  Status commit() noexcept override;
  /// Commits the earliest or next offset of every partition of `topic` for the group,
  /// then moves the partitions this member holds there. Members holding the others now
  /// keep their place until a rebalance gives them out again (see the README).
  Result<void> seek(std::string_view topic, bool to_latest) override;
  /// Finds each partition's start by reading `topic` from its first offsets with a client
  /// of its own (it joins no group), then moves the group there as seek() does. A partition read to
  /// its end without a start starts at its end.
  Result<std::uint64_t> seek_to(std::string_view topic, const detail::SeekProbe& probe) override;
  void close() noexcept override;

 private:
  KafkaConsumer(std::shared_ptr<Cluster> cluster, KafkaSettings settings, ConsumerOptions options)
      : cluster_(std::move(cluster)),
        settings_(std::move(settings)),
        options_(std::move(options)),
        problems_(LogLevel::kWarning, "kafka consumer", settings_.log_interval) {}

  // How far past its caller's deadline a rebalance callback may wait to pin the end of new
  // partitions (so a short receive still pins on a healthy cluster).
  static constexpr std::chrono::milliseconds kPinSlack{250};

  static void on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t event,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  /// Gives revoked partitions back without committing, so what was handed out but not
  /// committed goes to their next owner (nothing once the group handler has terminated).
  void give_back(rd_kafka_t* handle, rd_kafka_topic_partition_list_t* partitions) const noexcept;
  using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                        decltype(&rd_kafka_topic_partition_list_destroy)>;
  /// Every partition of `topics`, from the brokers' metadata (asked again while a topic has
  /// none yet, until `deadline`), each at RD_KAFKA_OFFSET_INVALID.
  Result<PartitionList> read_partitions(std::span<const std::string> topics,
                                        detail::Deadline deadline);
  /// seek()'s second half: commits `list` (each partition at its new offset) for the group,
  /// then moves this member's fetch positions in the partitions of it that it holds.
  Result<void> move_group(const std::string& name, const rd_kafka_topic_partition_list_t* list,
                          detail::Deadline deadline);
  /// seek_to()'s read: sets each of `list`'s offsets (their first offsets on entry) to where
  /// `probe` places the start; adds the records passed over to `passed`.
  Result<void> find_starts(rd_kafka_topic_partition_list_t* list, const detail::SeekProbe& probe,
                           detail::Deadline deadline, std::uint64_t& passed);
  /// Assigns every partition of `topics` to a consumer without a group.
  Result<void> assign_directly(std::span<const std::string> topics);
  /// Sets the offset of each of `partitions` without a committed one to the partition's
  /// end, if both are known by `deadline`.
  void pin_latest(rd_kafka_topic_partition_list_t* partitions, detail::Deadline deadline) noexcept;
  /// Adds a record poll() got to batch_, or logs and destroys an error record.
  bool accept(rd_kafka_message_t* record) noexcept;
  /// Hands batch_ out to `out` and stores its offsets. @return false if nothing was.
  bool hand_out(std::vector<detail::Delivery>& out) noexcept;
  /// A stable view of the topic's name (for Delivery::topic).
  std::string_view topic_name(const rd_kafka_topic_t* topic);
  void drop_pending() noexcept;
  /// Commits `offsets` (nullptr: the stored ones), waiting settings_.timeout at most.
  rd_kafka_resp_err_t commit_offsets(const rd_kafka_topic_partition_list_t* offsets) noexcept;
  /// Whether the commit whose wait timed out is still deferred by librdkafka.
  bool commit_still_pending() noexcept;
  void log_problem(std::string_view text) noexcept { problems_.log(text); }

  std::shared_ptr<Cluster> cluster_;
  KafkaSettings settings_;
  ConsumerOptions options_;
  std::shared_ptr<Client> client_;
  std::vector<std::string> subscribed_;
  std::set<std::string, std::less<>> topic_names_;  // stable views for Delivery::topic
  std::string_view last_topic_name_;                // an element of topic_names_
  std::deque<rd_kafka_message_t*> pending_;         // polled while subscribe() waited
  rd_kafka_queue_t* pending_commit_ = nullptr;      // reply queue of a commit that timed out
  std::vector<rd_kafka_message_t*> batch_;          // what one poll() hands out
  std::uint64_t assignments_ = 0;                   // rebalance callbacks that assigned
  detail::Deadline pin_deadline_{};                 // pin_latest()'s bound in a rebalance
  detail::LogLimiter problems_;                     // failed assignments, commits, polls
  bool own_group_ = false;
  bool cooperative_ = false;  // partition.assignment.strategy is cooperative-sticky
};

}  // namespace mlops::orchestration::detail::kafka
