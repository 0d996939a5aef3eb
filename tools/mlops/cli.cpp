#include "cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

#include "mlops/orchestration/orchestration_builder.h"

namespace mlops::tool {

std::atomic<bool> g_stop_requested{false};

namespace {

extern "C" void on_stop_signal(int /*signal*/) { g_stop_requested.store(true); }

bool stdout_gone = false;
int stdout_errno = 0;  // why stdout failed: EPIPE is a reader gone, anything else an error

// Reads exactly `digits` decimal digits at text[at]. @return the number, or -1.
int digits_at(std::string_view text, std::size_t at, std::size_t digits) {
  if (at + digits > text.size()) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

int fail(std::string_view command, std::string_view message) {
  std::cerr << "mlops " << command << ": " << message << '\n';
  return kExitFailure;
}

int usage_error(std::string_view command, std::string_view message) {
  std::cerr << "mlops " << command << ": " << message << " (see mlops " << command << " --help)\n";
  return kExitUsage;
}

Result<orchestration::Orchestration> open_uri(const std::string& uri,
                                              const std::vector<std::string>& sets) {
  auto opened = orchestration::Orchestration::from_uri(uri);
  if (!opened || sets.empty()) return opened;
  orchestration::OrchestrationBuilder builder;
  builder.with_orchestrator(opened->orchestrator()).with_connection(opened->connection());
  for (const auto& [key, value] : opened->options()) builder.with_option(key, value);
  for (const auto& set : sets) {
    const auto pair = split_key_value(set);
    if (!pair) return Error{ErrorCode::kInvalidArgument, "--set '" + set + "' is not KEY=VALUE"};
    builder.with_option(pair->first, pair->second);
  }
  return builder.build();
}

std::optional<std::pair<std::string, std::string>> split_key_value(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) return std::nullopt;
  return std::pair{std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
}

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS
  const int year = digits_at(text, 0, 4), month = digits_at(text, 5, 2),
            day = digits_at(text, 8, 2);
  const int hour = digits_at(text, 11, 2), minute = digits_at(text, 14, 2),
            second = digits_at(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t fraction_ns = 0;
  if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
    ++at;
    std::int64_t scale = 100'000'000;
    const std::size_t first = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (at - first >= 9) return std::nullopt;
      fraction_ns += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == first) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '+' ? 1 : -1;
    const int off_hour = digits_at(text, at + 1, 2), off_minute = digits_at(text, at + 4, 2);
    if (off_hour < 0 || off_hour > 23 || off_minute < 0 || off_minute > 59 || text[at + 3] != ':') {
      return std::nullopt;
    }
    offset_s = sign * (off_hour * 3600 + off_minute * 60);
    at += 6;
  }
  if (at != text.size()) return std::nullopt;
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return seconds * 1'000'000'000 + fraction_ns;
}

std::string format_iso8601(std::int64_t unix_ns) {
  std::int64_t seconds = unix_ns / 1'000'000'000;
  std::int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  const auto time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  if (::gmtime_r(&time, &parts) == nullptr) return std::to_string(unix_ns) + "ns";
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<long long>(nanos));
  return text;
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool write_stdout(std::string_view bytes) {
  if (stdout_gone) return false;
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) {
    stdout_gone = true;
    stdout_errno = errno;
    return false;
  }
  return true;
}

bool flush_stdout() {
  if (stdout_gone) return false;
  if (std::fflush(stdout) != 0) {
    stdout_gone = true;
    stdout_errno = errno;
  }
  return !stdout_gone;
}

std::optional<std::string> stdout_write_error() {
  if (!stdout_gone) {
    // What is still buffered must reach its file too: a full disk shows here at the latest.
    if (std::fflush(stdout) == 0) return std::nullopt;
    stdout_gone = true;
    stdout_errno = errno;
  }
  if (stdout_errno == EPIPE) return std::nullopt;
  return std::string("writing the output failed: ") + std::strerror(stdout_errno);
}

void install_stop_handlers() {
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = &on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

std::optional<std::string> missing_mmap_queue(const std::string& uri) {
  constexpr std::string_view kScheme = "mmap://";
  if (!uri.starts_with(kScheme)) return std::nullopt;
  std::string path = uri.substr(kScheme.size());
  if (const auto query = path.find('?'); query != std::string::npos) path.resize(query);
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return "no mmap queue at '" + path + "': " + std::string(std::strerror(errno));
  }
  if (!S_ISDIR(info.st_mode)) return "'" + path + "' is not a directory";
  return std::nullopt;
}

}  // namespace mlops::tool
