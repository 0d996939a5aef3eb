#pragma once
// kafka: Apache Kafka through librdkafka. kafka://HOST:PORT[,HOST:PORT...]
//
// Options (URI query, or a role's backend options, which win):
//   ordering=producer|none  the record key of a message without a key (with_key):
//                      producer (default) gives each producer a key of its own, so its
//                      messages keep their order (and go to one partition, so to one member
//                      of each group); none gives them no key, so librdkafka's partitioner
//                      spreads them over the partitions (and members) in no order
//   key=none|creator   creator: a message without a key is keyed by its creator instead
//                      (default none)
//   timeout_ms         bound on admin requests, commit and close (default 5000)
//   assign_wait_ms     how long subscribe() waits for the group's assignment (default 5000)
//   log_interval_ms    after a burst of 10 problem lines (failed sends, deliveries, commits),
//                      a producer or consumer logs at most one per interval, saying how many
//                      it held back (default 10000)
//   mock.brokers=N     TEST ONLY: run librdkafka's in-process mock cluster of N brokers for
//                      this backend (the connection is ignored: kafka://mock?mock.brokers=1)
//   mock.partitions=P  TEST ONLY: partitions of the topics made on the mock (default 1)
//   anything else      a librdkafka property (https://github.com/confluentinc/librdkafka/
//                      blob/master/CONFIGURATION.md); an unknown one fails at create().
//
// Producer: enable.idempotence=true and acks=all unless overridden; every record carries one
// header, content-type=application/x-mlops-flatbuffer; schema=N (N: mlops::schema_version(), the
// wire schema's version, as a media-type parameter). Durability: send(msg, true) and flush() return
// kOk once all in-sync replicas hold the record. Order: Kafka keeps order within a partition only.
// Records of one key go to one partition in the order one producer sent them (idempotence keeps
// that order through retries); records of different keys, or of different producers, have no order
// between them. Consumer: group.id is ConsumerOptions::group, or a fresh group of its own;
// at-least-once (offsets of handed-out records, committed by commit()).
// partition.assignment.strategy naming cooperative-sticky is refused where librdkafka is older
// than 2.3.0 (kafka_version.h); commit() and close() wait at most timeout_ms, brokers down or not
// (kafka_reaper.h).

#include <memory>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail::kafka {

/// Reads the options (and starts the mock cluster when asked); does not touch the network.
Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint);

}  // namespace mlops::orchestration::detail::kafka
