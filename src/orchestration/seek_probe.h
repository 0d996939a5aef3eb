#pragma once
// Where Consumer::seek(at_time | after) starts: message stamps and ids are in the payloads,
// not in the backends' own indexes, so each backend reads its topic in order and asks this
// probe where each payload stands; it then moves the group there (ConsumerBackend::seek_to).

#include "mlops/messaging/mlops_message.h"
#include "mlops/orchestration/position.h"
#include "orchestration/backend.h"

namespace mlops::orchestration::detail {

/// Places payloads against `position` (kTime or kAfter):
/// - kTime: stamped before the time: kBefore; else kStart.
/// - kAfter: an older id: kBefore; the id itself: kLast; a newer one: kStart.
/// A payload that cannot be read (neither verified FlatBuffers nor the original's JSON), or
/// has no timestamp / id, starts the replay: nothing is passed over that cannot be placed.
/// The probe never throws.
[[nodiscard]] SeekProbe make_seek_probe(const Position& position,
                                        const messaging::VerifyLimits& limits);

}  // namespace mlops::orchestration::detail
