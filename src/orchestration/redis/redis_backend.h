#pragma once
// redis: Redis Streams through hiredis. redis://[USER:PASSWORD@]HOST[:PORT][/DB]
//
// Options (URI query, or a role's backend options, which win):
//   user, password        AUTH (Redis 6 ACL user, or the requirepass password alone); never
//                         logged. Also from the URI's USER:PASSWORD@.
//   timeout_ms            bound on connecting, admin requests, commit and close (default 5000)
//   claim_idle_ms         entries pending this long on one member are claimed by another
//                         (XAUTOCLAIM; default 30000)
//   maxlen                XADD ... MAXLEN ~ N: trims each stream to about N entries, read or
//                         not (default 0: no trimming; trimming can drop unread messages)
//   pipeline_messages     a producer reads XADD replies every N sends (64), not waiting
//   linger_ms, pipeline_bytes
//                         with linger_ms > 0, queued XADDs are written at pipeline_messages
//                         commands, pipeline_bytes bytes (1 MiB) or linger_ms (default 0:
//                         each send() writes at once)
//   max_in_flight         most unacknowledged XADDs before send() back-pressures (10000)
//   wait_replicas, wait_timeout_ms
//                         flush() also waits (WAIT) for N replicas, up to the timeout (0, 1000)
//   max_message_bytes     larger messages are refused with kTooLarge (default 512 MiB)
//   reconnect_backoff_ms  longest pause between reconnect attempts (default 2000)
//   log_interval_ms       rate limit of problem log lines after a burst of 10 (default 10000)
//
// Order (README, "Ordering"): one producer's entries in send order (one connection, replies
// read in order, nothing resent); one order per stream for every producer (entry ids, in
// the order XADDs reached the server), the same for every group; a group's members compete,
// each getting its share in stream order. Redelivery: a reconnected member re-reads its own
// pending entries first; what a member left uncommitted (closed: at once; died: after
// claim_idle_ms) goes to the next member's XAUTOCLAIM pass, usually after newer entries.
//
// Durability: send(msg, true) and flush() return kOk once Redis has replied to the XADD:
// the entry is in the server's memory, and on disk as its appendonly/appendfsync settings
// say (appendfsync always: on disk). wait_replicas adds WAIT. TLS is not available: Debian's
// hiredis 0.14 has no TLS support (hiredis_ssl came with 1.0).

#include <memory>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail::redis {

/// Reads the connection and options; does not touch the network.
Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint);

}  // namespace mlops::orchestration::detail::redis
