#include "mlops/messaging/enums.h"

#include <array>
#include <string>
#include <utility>

#include "mlops/log.h"

namespace mlops::messaging {
namespace {

constexpr std::array<std::string_view, 6> kMessageTypeNames = {"START",      "COMPLETE", "FAIL",
                                                               "INPROGRESS", "RETRY",    "OTHER"};
constexpr std::array<std::string_view, 8> kStageNames = {
    "STAGED", "IN_ANNOTATIONS", "ANNOTATIONS_COMPLETE", "UNSTAGED",
    "TRAIN",  "FINE_TUNE",      "EVALUATION",           "ETL"};
constexpr std::array<std::string_view, 7> kCreatorTypeNames = {
    "unknown", "dump", "ingestion", "annotation", "backend", "mlops", "monitor"};

// The original library's alias table, verbatim (already lower case).
constexpr std::pair<std::string_view, CreatorType> kCreatorAliases[] = {
    {"dump", CreatorType::DUMP},
    {"storage", CreatorType::DUMP},
    {"offload", CreatorType::DUMP},
    {"drop", CreatorType::DUMP},
    {"ingestion", CreatorType::INGESTION},
    {"ingest", CreatorType::INGESTION},
    {"ingestor", CreatorType::INGESTION},
    {"processor", CreatorType::INGESTION},
    {"annotation", CreatorType::ANNOTATION},
    {"annotator", CreatorType::ANNOTATION},
    {"labels", CreatorType::ANNOTATION},
    {"labeler", CreatorType::ANNOTATION},
    {"labeling", CreatorType::ANNOTATION},
    {"annotations", CreatorType::ANNOTATION},
    {"backend", CreatorType::BACKEND},
    {"curation", CreatorType::BACKEND},
    {"data curation", CreatorType::BACKEND},
    {"dataset", CreatorType::BACKEND},
    {"dataset builder", CreatorType::BACKEND},
    {"mlops", CreatorType::MLOPS},
    {"train", CreatorType::MLOPS},
    {"training", CreatorType::MLOPS},
    {"eval", CreatorType::MLOPS},
    {"evaluation", CreatorType::MLOPS},
    {"testing", CreatorType::MLOPS},
    {"test", CreatorType::MLOPS},
    {"retrain", CreatorType::MLOPS},
    {"retraining", CreatorType::MLOPS},
    {"fine-tune", CreatorType::MLOPS},
    {"fine-tuning", CreatorType::MLOPS},
    {"fine tune", CreatorType::MLOPS},
    {"fine tuning", CreatorType::MLOPS},
    {"transfer learning", CreatorType::MLOPS},
    {"etl", CreatorType::MLOPS},
    {"preprocessing", CreatorType::MLOPS},
    {"augmentation", CreatorType::MLOPS},
    {"augments", CreatorType::MLOPS},
    {"monitor", CreatorType::MONITOR},
    {"monitoring", CreatorType::MONITOR},
    {"db monitor", CreatorType::MONITOR},
    {"pipeline monitor", CreatorType::MONITOR},
    {"unknown", CreatorType::UNKNOWN},
};

// Longer than every alias: input this long cannot match, so it needs no buffer.
constexpr std::size_t kLongestAlias = 32;

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, Enum value,
                         std::string_view unrecognized) noexcept {
  const auto index = static_cast<std::size_t>(value);
  return index < N ? names[index] : unrecognized;
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::string_view, N>& names,
                             std::string_view text) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(MessageType value) noexcept {
  return name_of(kMessageTypeNames, value, "UNRECOGNIZED");
}
std::string_view to_string(Stage value) noexcept {
  return name_of(kStageNames, value, "UNRECOGNIZED");
}
std::string_view to_string(CreatorType value) noexcept {
  return name_of(kCreatorTypeNames, value, "unrecognized");
}

template <>
std::optional<MessageType> from_string<MessageType>(std::string_view text) noexcept {
  return value_of<MessageType>(kMessageTypeNames, text);
}
template <>
std::optional<Stage> from_string<Stage>(std::string_view text) noexcept {
  return value_of<Stage>(kStageNames, text);
}
template <>
std::optional<CreatorType> from_string<CreatorType>(std::string_view text) noexcept {
  return value_of<CreatorType>(kCreatorTypeNames, text);
}

CreatorType normalize_creator_type(std::string_view text) noexcept {
  if (text.size() <= kLongestAlias) {
    char lowered[kLongestAlias];
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      lowered[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    const std::string_view key(lowered, text.size());
    for (const auto& [alias, type] : kCreatorAliases) {
      if (alias == key) return type;
    }
  }
  try {
    log(LogLevel::kWarning, "unknown creator type '" + std::string(text) + "': using 'unknown'");
  } catch (...) {
    // Out of memory while reporting: the answer is still UNKNOWN.
  }
  return CreatorType::UNKNOWN;
}

}  // namespace mlops::messaging
