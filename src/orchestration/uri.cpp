#include "orchestration/uri.h"

#include <cctype>

namespace mlops::orchestration::detail {
namespace {

Error malformed(std::string_view uri, std::string_view why) {
  return Error{
      ErrorCode::kInvalidArgument,
      "malformed orchestration URI " + quote_text(redact_uri(uri)) + ": " + std::string(why)};
}

bool is_scheme_char(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

}  // namespace

bool names_a_secret(std::string_view key) {
  std::string lower;
  for (const char c : key) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string_view word : {"password", "passwd", "secret", "token", "credential"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string quote_text(std::string_view text) {
  constexpr std::size_t kMaxShown = 120;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

std::string redact_uri(std::string_view uri) {
  std::string out;
  auto question = uri.find('?');
  auto head = uri.substr(0, question);
  // The connection's user information: [user][:password]@host (the last '@' ends it).
  const auto start = head.find("//") == std::string_view::npos ? 0 : head.find("//") + 2;
  const auto at = head.rfind('@');
  if (at != std::string_view::npos && at >= start) {
    const auto colon = head.find(':', start);
    if (colon != std::string_view::npos && colon < at) {
      out.append(head.substr(0, colon + 1)).append("***").append(head.substr(at));
    } else {
      out.append(head);
    }
  } else {
    out.append(head);
  }
  if (question == std::string_view::npos) return out;
  out += '?';
  auto query = uri.substr(question + 1);
  for (bool first = true;; first = false) {
    if (!first) out += '&';
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto equals = pair.find('=');
    if (equals != std::string_view::npos && names_a_secret(pair.substr(0, equals))) {
      out.append(pair.substr(0, equals + 1)).append("***");
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Result<Endpoint> parse_uri(std::string_view uri) {
  if (uri.empty()) return malformed(uri, "it is empty; expected e.g. 'inproc://NAME' or 'none:'");
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos) {
    return malformed(
        uri, "no scheme; expected SCHEME:// as in 'inproc://" + redact_uri(uri) + "' or 'none:'");
  }
  Endpoint endpoint;
  const auto scheme = uri.substr(0, colon);
  if (scheme.empty()) return malformed(uri, "the scheme before ':' is empty");
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (!is_scheme_char(scheme[i], i == 0)) {
      return malformed(uri, "the scheme " + quote_text(scheme) +
                                " may hold only letters, digits, '+', '-' and '.', "
                                "starting with a letter");
    }
    endpoint.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(scheme[i])));
  }

  auto rest = uri.substr(colon + 1);
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
  } else if (!rest.empty()) {
    return malformed(uri, "expected '//' after '" + endpoint.scheme + ":'");
  }
  const auto question = rest.find('?');
  endpoint.connection = std::string(rest.substr(0, question));
  if (question == std::string_view::npos) return endpoint;

  auto query = rest.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return malformed(uri, "option " + quote_text(pair) + " is not KEY=VALUE");
    }
    const std::string key(pair.substr(0, equals));
    if (endpoint.options.contains(key)) {
      return malformed(uri, "option " + quote_text(key) + " is given twice");
    }
    endpoint.options.emplace(key, std::string(pair.substr(equals + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
    if (query.empty()) return malformed(uri, "it ends with '&'");
  }
  return endpoint;
}

std::string format_uri(const Endpoint& endpoint) {
  std::string uri = endpoint.scheme + ":";
  if (!endpoint.connection.empty() || !endpoint.options.empty()) uri += "//" + endpoint.connection;
  char separator = '?';
  for (const auto& [key, value] : endpoint.options) {
    uri += separator;
    uri += key + "=" + value;
    separator = '&';
  }
  return uri;
}

}  // namespace mlops::orchestration::detail
