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
/// the original library's JSON through original_json_hook(). @return the message, or the
/// error of the schema's parser.
Result<messaging::MLOpsMessage> message_from_json_line(std::string_view line);

/// HOOK for the original library's JSON form (being added to the library in parallel):
/// returns nullopt for a line it does not recognise as that form. Today it recognises
/// none; when MessageBuilder learns the original form, call it here.
std::optional<Result<messaging::MLOpsMessage>> original_json_hook(std::string_view line);

}  // namespace mlops::tool
