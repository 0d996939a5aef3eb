#pragma once
/// \file BackendOptions: settings passed through to a backend as text key/value pairs.

#include <functional>
#include <map>
#include <string>

namespace mlops::orchestration {

/// Backend settings as text key/value pairs, passed through as the original passed keyword
/// arguments to its client library (librdkafka properties, Redis settings, inproc limits).
/// A backend warns once about keys it does not know and ignores them, so code written for
/// one backend still runs on another.
using BackendOptions = std::map<std::string, std::string, std::less<>>;

}  // namespace mlops::orchestration
