#pragma once
// kafka-python's option names (what the original library's users pass to Producer and
// Consumer) translated to librdkafka properties, units converted. The table is in the
// README ("Moving from the original library").

#include <optional>
#include <string>
#include <string_view>

#include "mlops/result.h"

namespace mlops::orchestration::detail::kafka {

/// What a kafka-python option becomes.
struct TranslatedOption {
  /// The librdkafka property; empty when the option has no librdkafka counterpart and is
  /// ignored (with `note` saying why, for a warning).
  std::string property;
  /// Its value in librdkafka's units and spelling.
  std::string value;
  /// Why an ignored option is ignored.
  std::string_view note;
};

/// The translation of kafka-python option `key`=`value`, or nullopt when `key` is not a
/// kafka-python name (librdkafka's own dotted names are not: they pass through).
/// @return kInvalidArgument for a value that cannot be converted (buffer_memory=abc).
Result<std::optional<TranslatedOption>> translate_kafka_python(std::string_view key,
                                                               std::string_view value);

}  // namespace mlops::orchestration::detail::kafka
