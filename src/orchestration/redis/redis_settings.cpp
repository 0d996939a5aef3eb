#include "orchestration/redis/redis_settings.h"

#include <charconv>
#include <limits>
#include <optional>
#include <string>

#include "orchestration/option_reader.h"

namespace mlops::orchestration::detail::redis {
namespace {

constexpr std::uint64_t kHour = 3'600'000;

/// `text` with %XX sequences decoded (a user or password may hold '@', ':', '?', '&', '/').
std::optional<std::string> percent_decoded(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) return std::nullopt;
    const auto* first = text.data() + i + 1;
    const auto [end, error] = std::from_chars(first, first + 2, value, 16);
    if (error != std::errc{} || end != first + 2) return std::nullopt;
    decoded += static_cast<char>(value);
    i += 2;
  }
  return decoded;
}

}  // namespace

std::string RedisSettings::where() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port) +
         (db != 0 ? "/" + std::to_string(db) : "");
}

Result<RedisSettings> parse_connection(std::string_view connection) {
  RedisSettings settings;
  auto invalid = [&](const std::string& why) {
    return Error{ErrorCode::kInvalidArgument,
                 "redis connection must be [USER:PASSWORD@]HOST[:PORT][/DB]: " + why};
  };
  const bool has_credentials = connection.find('@') != std::string_view::npos;
  if (const auto at = connection.rfind('@'); at != std::string_view::npos) {
    const auto credentials = connection.substr(0, at);
    connection.remove_prefix(at + 1);
    const auto colon = credentials.find(':');
    auto user =
        percent_decoded(colon == std::string_view::npos ? "" : credentials.substr(0, colon));
    auto password = percent_decoded(
        colon == std::string_view::npos ? credentials : credentials.substr(colon + 1));
    if (!user || !password) {
      return invalid("a '%' in the user or password is not followed by two hex digits");
    }
    settings.user = std::move(*user);
    settings.password = std::move(*password);
  }
  if (const auto slash = connection.find('/'); slash != std::string_view::npos) {
    const auto db_text = connection.substr(slash + 1);
    connection = connection.substr(0, slash);
    if (!db_text.empty()) {
      auto db = whole_number(db_text, 0, std::numeric_limits<int>::max());
      if (!db) return invalid("the database is not a number");
      settings.db = static_cast<int>(*db);
    }
  }
  const bool anything_given = !connection.empty() || has_credentials;
  std::string_view host = connection;
  std::string_view port_text;
  bool has_port = false;
  if (connection.starts_with('[')) {  // an IPv6 address: [::1]:6379
    const auto close = connection.find(']');
    if (close == std::string_view::npos) return invalid("an IPv6 address misses its ']'");
    host = connection.substr(1, close - 1);
    const auto rest = connection.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("only ':PORT' may follow an IPv6 address's ']'");
      port_text = rest.substr(1);
      has_port = true;
    }
  } else if (const auto colon = connection.rfind(':'); colon != std::string_view::npos) {
    if (connection.find(':') != colon) {
      return invalid("an IPv6 address must be in brackets ([::1]:6379)");
    }
    host = connection.substr(0, colon);
    port_text = connection.substr(colon + 1);
    has_port = true;
  }
  if (has_port) {
    auto port = whole_number(port_text, 1, 65535);
    if (!port) return invalid("the port is not a number from 1 to 65535");
    settings.port = static_cast<int>(*port);
  }
  if (host.empty() && anything_given) return invalid("the host is missing");
  if (!host.empty()) settings.host = std::string(host);
  return settings;
}

Result<RedisSettings> read_settings(const BackendOptions& options, RedisSettings base) {
  OptionReader reader("redis", options);
  Result<void> done;
  auto millis = [&](std::string_view key, std::chrono::milliseconds& into, std::uint64_t min,
                    std::uint64_t max) {
    auto number = reader.millis(key, min, max, into);
    if (number) into = *number;
    if (!number && done) done = number.error();
  };
  auto count = [&](std::string_view key, auto& into, std::uint64_t min, std::uint64_t max) {
    auto number = reader.number(key, min, max, static_cast<std::uint64_t>(into));
    if (number) into = static_cast<std::remove_reference_t<decltype(into)>>(*number);
    if (!number && done) done = number.error();
  };
  if (auto user = reader.text("user")) base.user = std::move(*user);
  if (auto password = reader.text("password")) base.password = std::move(*password);
  millis("timeout_ms", base.timeout, 1, kHour);
  millis("claim_idle_ms", base.claim_idle, 1, 24 * kHour);
  count("maxlen", base.maxlen, 0, std::uint64_t{1} << 62);
  count("pipeline_messages", base.pipeline_messages, 1, 1'000'000);
  count("pipeline_bytes", base.pipeline_bytes, 1, std::uint64_t{1} << 30);
  millis("linger_ms", base.linger, 0, kHour);
  count("max_in_flight", base.max_in_flight, 1, 10'000'000);
  count("wait_replicas", base.wait_replicas, 0, 1000);
  millis("wait_timeout_ms", base.wait_timeout, 1, kHour);
  count("max_message_bytes", base.max_message_bytes, 1, std::uint64_t{512} << 20);
  millis("reconnect_backoff_ms", base.reconnect_backoff, 1, 10 * 60'000);
  millis("log_interval_ms", base.log_interval, 0, 24 * kHour);
  if (!done) return done.error();
  reader.warn_unread();
  return base;
}

}  // namespace mlops::orchestration::detail::redis
