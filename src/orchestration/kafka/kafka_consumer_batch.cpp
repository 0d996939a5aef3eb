// KafkaConsumer's poll(): taking records into a batch and handing them out, in place
// where aligned and copied into one arena where not.
#include "orchestration/kafka/kafka_consumer.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace mlops::orchestration::detail::kafka {
namespace {

// Records a poll() reserves room for up front (more grow the vector).
constexpr std::size_t kReserveRecords = 1024;
// Payload bytes after which poll() stops taking records (see poll()).
constexpr std::size_t kBatchBytes = std::size_t{256} << 10;

}  // namespace

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
  std::shared_ptr<Client> client;          // the kept records' memory is the client's
  std::vector<rd_kafka_message_t*> kept;   // destroyed with the batch
  std::unique_ptr<std::uint64_t[]> arena;  // copies, each at an 8-byte boundary
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

}  // namespace mlops::orchestration::detail::kafka
