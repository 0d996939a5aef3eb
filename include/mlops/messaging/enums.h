#pragma once
/// \file The enums that standardise messages across the pipeline, with their text forms.

#include <cstdint>
#include <optional>
#include <string_view>

#include "mlops/export.h"

namespace mlops::messaging {

/// What a message reports. Each value's text is its name ("START").
enum class MessageType : std::int8_t { START, COMPLETE, FAIL, INPROGRESS, RETRY, OTHER };

/// Where a piece of work stands in the pipeline. Each value's text is its name ("TRAIN").
/// (The original Python library called this enum `Stages`.)
enum class Stage : std::int8_t {
  STAGED,
  IN_ANNOTATIONS,
  ANNOTATIONS_COMPLETE,
  UNSTAGED,
  TRAIN,
  FINE_TUNE,
  EVALUATION,
  ETL,
};

/// The canonical kinds of message creator; text is lower case ("mlops").
/// Free-form input is mapped onto these by normalize_creator_type().
enum class CreatorType : std::int8_t {
  UNKNOWN,
  DUMP,
  INGESTION,
  ANNOTATION,
  BACKEND,
  MLOPS,
  MONITOR
};

/// "START", "TRAIN", ...; a value this build does not know (from a newer writer) gives
/// "UNRECOGNIZED".
MLOPS_EXPORT std::string_view to_string(MessageType value) noexcept;
/// "STAGED", "TRAIN", ...; an unknown value gives "UNRECOGNIZED".
MLOPS_EXPORT std::string_view to_string(Stage value) noexcept;
/// "unknown", "dump", "mlops", ...; an unknown value gives "unrecognized".
MLOPS_EXPORT std::string_view to_string(CreatorType value) noexcept;

/// The enum value whose text is exactly `text`, or nullopt.
///   from_string<MessageType>("START") == MessageType::START
template <typename Enum>
std::optional<Enum> from_string(std::string_view text) noexcept;
template <>
MLOPS_EXPORT std::optional<MessageType> from_string<MessageType>(std::string_view text) noexcept;
template <>
MLOPS_EXPORT std::optional<Stage> from_string<Stage>(std::string_view text) noexcept;
template <>
MLOPS_EXPORT std::optional<CreatorType> from_string<CreatorType>(std::string_view text) noexcept;

/// Maps a free-form creator description onto its canonical type, as the original
/// library did: the input is lower-cased and matched exactly against the alias
/// table ("ETL" -> MLOPS, "Data Curation" -> BACKEND, "labeler" -> ANNOTATION).
/// Input that matches no alias gives UNKNOWN and logs a warning; it never throws.
MLOPS_EXPORT CreatorType normalize_creator_type(std::string_view text) noexcept;

}  // namespace mlops::messaging
