#include "library_log.h"

#include <iostream>
#include <mutex>

#include "mlops/log.h"

namespace mlops::tool {
namespace {
std::mutex g_mutex;
std::optional<std::string> g_last_error;  // under g_mutex
}  // namespace

void install_library_log(bool verbose) {
  mlops::set_log_handler([verbose](LogLevel level, std::string_view text) {
    const std::lock_guard lock(g_mutex);
    if (level == LogLevel::kError) g_last_error = std::string(text);
    if (verbose) std::cerr << "mlops " << to_string(level) << ": " << text << '\n';
  });
}

std::optional<std::string> last_library_error() {
  const std::lock_guard lock(g_mutex);
  return g_last_error;
}

}  // namespace mlops::tool
