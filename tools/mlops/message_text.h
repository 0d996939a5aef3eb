#pragma once
// How `mlops` shows a message and reads one: the short human line of `tail --format text`,
// the length-prefixed frames of `--format raw`, and one line of JSON in.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mlops/messaging/mlops_message.h"
#include "mlops/result.h"

namespace mlops::tool {

/// One short line: time, type, creator, stage and the fields that are set.
std::string to_text_line(const messaging::MLOpsMessage& message);

/// A frame of `--format raw`: the message's size as 4 bytes little-endian, then its bytes.
std::string to_frame(const messaging::MLOpsMessage& message);

/// Reads one message from a line of JSON: the schema's JSON (MLOpsMessage::to_json), else
/// the original library's JSON (messaging::legacy_json). @return the message, or both
/// parsers' errors.
Result<messaging::MLOpsMessage> message_from_json_line(std::string_view line);

}  // namespace mlops::tool
