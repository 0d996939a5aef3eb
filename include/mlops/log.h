#pragma once
/// \file The library's log hook: one function that receives every log line.

#include <functional>
#include <string_view>

#include "mlops/export.h"

namespace mlops {

/// How serious a log line is.
enum class LogLevel { kDebug, kInfo, kWarning, kError };

/// Readable name of a LogLevel, e.g. "warning".
MLOPS_EXPORT std::string_view to_string(LogLevel level) noexcept;

/// Receives every log line. Called from whichever thread logs; must be thread-safe.
using LogHandler = std::function<void(LogLevel, std::string_view)>;

/// Routes every log line to `handler`; an empty handler restores the default,
/// which writes "mlops <level>: <message>" to stderr. Thread-safe.
/// Nothing logs per message on a hot path, so the handler may be slow.
MLOPS_EXPORT void set_log_handler(LogHandler handler);

/// Sends one line to the current handler. Thread-safe.
MLOPS_EXPORT void log(LogLevel level, std::string_view message);

}  // namespace mlops
