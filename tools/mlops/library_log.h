#pragma once
// The library's log lines in the `mlops` command: printed only with -v, but the last error
// is always kept, so that a command's one-line failure can name the cause (a server's
// refusal, say) instead of a bare status.

#include <optional>
#include <string>

namespace mlops::tool {

/// Routes the library's log: to stderr as "mlops LEVEL: TEXT" when `verbose`, nowhere
/// otherwise; either way the last error line is kept for last_library_error().
void install_library_log(bool verbose);

/// The last error the library logged since install_library_log(), if any.
std::optional<std::string> last_library_error();

}  // namespace mlops::tool
