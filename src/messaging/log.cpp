#include "mlops/log.h"

#include <cstdio>
#include <memory>
#include <mutex>
#include <utility>

#include "mlops/result.h"

namespace mlops {
namespace {

void log_to_stderr(LogLevel level, std::string_view message) {
  std::fprintf(stderr, "mlops %.*s: %.*s\n", static_cast<int>(to_string(level).size()),
               to_string(level).data(), static_cast<int>(message.size()), message.data());
}

// The handler is swapped rarely and called rarely (never per message), so a
// mutex-guarded shared_ptr is plenty; a copy is taken so a handler may log or
// replace the handler without deadlocking.
std::mutex& handler_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<const LogHandler>& handler_slot() {
  static std::shared_ptr<const LogHandler> handler;
  return handler;
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kEmpty: return "empty";
    case ErrorCode::kTooLarge: return "too large";
    case ErrorCode::kTruncated: return "truncated";
    case ErrorCode::kWrongIdentifier: return "wrong identifier";
    case ErrorCode::kMisaligned: return "misaligned";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

void set_log_handler(LogHandler handler) {
  auto next = handler ? std::make_shared<const LogHandler>(std::move(handler)) : nullptr;
  std::lock_guard lock(handler_mutex());
  handler_slot() = std::move(next);
}

void log(LogLevel level, std::string_view message) {
  std::shared_ptr<const LogHandler> handler;
  {
    std::lock_guard lock(handler_mutex());
    handler = handler_slot();
  }
  if (handler) {
    (*handler)(level, message);
  } else {
    log_to_stderr(level, message);
  }
}

}  // namespace mlops
