#pragma once
// What every `mlops` command shares: exit statuses, one-line errors, opening a URI with
// extra options, KEY=VALUE and ISO-8601 parsing, and stdout that notices a closed pipe.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlops/orchestration/orchestration.h"
#include "mlops/result.h"

namespace CLI {
class App;
}  // namespace CLI

namespace mlops::tool {

/// Exit statuses: success, a runtime failure, a usage error (as CLI11 reports them too).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// Prints "mlops COMMAND: MESSAGE" on stderr, one line. @return kExitFailure.
int fail(std::string_view command, std::string_view message);
/// As fail(), for a command line that cannot work. @return kExitUsage.
int usage_error(std::string_view command, std::string_view message);

/// Opens `uri` with `sets` ("KEY=VALUE") added to its options (later ones win).
/// @return the orchestration, or kInvalidArgument for a malformed URI or setting.
Result<orchestration::Orchestration> open_uri(const std::string& uri,
                                              const std::vector<std::string>& sets);

/// Splits "KEY=VALUE" (KEY not empty). @return nullopt when there is no '=' or no key.
std::optional<std::pair<std::string, std::string>> split_key_value(std::string_view text);

/// Parses an ISO-8601 UTC time: 2026-11-30T03:45:28, optional .fraction (up to 9 digits),
/// optional Z or +HH:MM / -HH:MM. @return nanoseconds since the Unix epoch, or nullopt.
std::optional<std::int64_t> parse_iso8601(std::string_view text);
/// The time as 2026-11-30T03:45:28.123456789Z.
std::string format_iso8601(std::int64_t unix_ns);

/// `text` as a JSON string literal, quotes included (names from a broker may hold anything).
std::string json_quote(std::string_view text);

/// Nanoseconds since the Unix epoch now (the clock message timestamps use).
std::int64_t now_unix_ns();

/// Writes `bytes` to stdout. @return false once stdout is gone (a closed pipe: `| head -1`),
/// after which the command should stop quietly with success.
bool write_stdout(std::string_view bytes);
/// Flushes stdout. @return false if stdout is gone.
bool flush_stdout();
/// After a command: why stdout failed (a full disk, an I/O error), or nothing when it did
/// not or its reader just went away (EPIPE, which ends a command quietly with success).
std::optional<std::string> stdout_write_error();

/// Set by SIGINT and SIGTERM (once install_stop_handlers() ran): long commands stop soon.
extern std::atomic<bool> g_stop_requested;
/// Ignores SIGPIPE (writes then fail with EPIPE, see write_stdout) and turns SIGINT and
/// SIGTERM into g_stop_requested.
void install_stop_handlers();

/// Whether an mmap URI names a directory that holds no queue yet; commands that only read
/// refuse it instead of creating an empty queue. @return the error to report, or nullopt.
std::optional<std::string> missing_mmap_queue(const std::string& uri);

}  // namespace mlops::tool
