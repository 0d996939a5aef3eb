#pragma once
// Orchestration URIs: scheme:, scheme://connection, with an optional ?key=value&... query.

#include <string>
#include <string_view>

#include "orchestration/backend.h"

namespace mlops::orchestration::detail {

/// Splits `uri` into scheme (lower-cased), connection and options. No percent-decoding:
/// connections and options are taken as written.
/// @return the endpoint, or kInvalidArgument saying what is malformed.
Result<Endpoint> parse_uri(std::string_view uri);

/// The canonical text of `endpoint`: "none:", "inproc://NAME?key=value".
std::string format_uri(const Endpoint& endpoint);

/// `uri` with its secrets replaced by "***": the password of a `user:password@host`
/// connection, and the value of every query option whose key names a password, secret,
/// token or credential. Works on malformed text too (it is what error messages quote).
std::string redact_uri(std::string_view uri);

/// Whether an option `key` names a password, secret, token or credential (its value is
/// never shown).
bool names_a_secret(std::string_view key);

/// A readable quote of untrusted text for error messages (control bytes escaped, long text cut).
std::string quote_text(std::string_view text);

}  // namespace mlops::orchestration::detail
