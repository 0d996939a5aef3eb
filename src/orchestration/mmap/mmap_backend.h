#pragma once
// mmap: a persistent queue in memory-mapped files under one directory, shared by every
// process on the machine that opens it (mmap:///DIR, mmap://./DIR). No server.
//
// Options (URI query or backend options):
//   segment_bytes       size of each segment file (default 64 MiB; fixed at topic creation)
//   max_message_bytes   larger messages are refused with kTooLarge (default: a segment's room)
//   pending_timeout_ms  how long readers wait on a claimed, unpublished record whose writer
//                       is alive before skipping it (default 2000)
//   populate            fault segments in ahead of the writer, in the background (default true);
//                       false: no blocks or pages held ahead of the writer, no huge pages
//   retention_ms        delete consumed segments older than this (default 7 days; 0 = never)
//   retention_bytes     ... or while the topic holds more than this (default 0 = no limit)
//   sync_commits        fdatasync each consumer commit (default false: a committed cursor
//                       survives any process crash, and power loss after the next sync)
//   lease_ms            how long a group member may hold claimed messages without receiving
//                       again before other members take them (default 30000; 10 to 3600000)
//   mode                octal permissions of created files (default 0600, directories 0700;
//                       0660 shares the queue with the group, directories then 0770)
// A producer reads only max_message_bytes and a consumer only sync_commits and lease_ms from its
// own options; the others belong to the queue's URI, and given elsewhere they are warned about.

#include <memory>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail::mmap {

/// Opens (creating if needed) the queue directory the endpoint names.
Result<std::shared_ptr<Backend>> open(const Endpoint& endpoint);

}  // namespace mlops::orchestration::detail::mmap
