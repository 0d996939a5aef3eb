#pragma once
// Destroys librdkafka clients whose destruction would block, on a thread of its own.
//
// librdkafka (2.0.2, and later ones too) defers a consumer's offset commit while its group
// coordinator is unreachable, for up to session.timeout.ms; until the deferred commit ends
// the consumer cannot leave its group, and rd_kafka_destroy() waits for that, spinning at
// 100% CPU (40 s with the default 45 s session). No sequence of closing calls cancels the
// deferred commit, so a consumer that could not close within its bound is handed here: the
// caller (close(), or whichever message destructor drops the last reference) returns at
// once, and the client goes once librdkafka lets it.

#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <memory>

namespace mlops::orchestration::detail::kafka {

/// Destroys `handle` with `flags` on the reaper thread, then drops `keep_alive` (what the
/// handle needs until then, e.g. the mock cluster it talks to). Logs nothing more from the
/// handle. Destroys it here, blocking, if no thread can be started.
void destroy_in_background(rd_kafka_t* handle, int flags,
                           std::shared_ptr<const void> keep_alive) noexcept;

/// Clients handed over and not yet destroyed.
std::size_t background_destroys_pending() noexcept;

/// True once the process has begun to exit (std::exit): librdkafka threads still running
/// then must not call into the log hook, whose state may already be destroyed.
bool process_exiting() noexcept;

}  // namespace mlops::orchestration::detail::kafka
