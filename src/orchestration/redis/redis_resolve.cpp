#include "orchestration/redis/redis_resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace mlops::orchestration::detail::redis {
namespace {

bool is_numeric(const std::string& host) {
  std::array<unsigned char, sizeof(in6_addr)> address{};
  return ::inet_pton(AF_INET, host.c_str(), address.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), address.data()) == 1;
}

/// One lookup, shared by the caller and the thread doing it (whoever ends last frees it).
struct Lookup {
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;
  std::vector<std::string> addresses;  // empty: failed, with `why`
  std::string why;
};

void resolve(const std::string& host, Lookup& lookup) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  std::vector<std::string> addresses;
  std::string why;
  if (error != 0) {
    why = ::gai_strerror(error);
  } else {
    for (const addrinfo* each = found; each != nullptr; each = each->ai_next) {
      std::array<char, NI_MAXHOST> text{};
      if (::getnameinfo(each->ai_addr, each->ai_addrlen, text.data(), text.size(), nullptr, 0,
                        NI_NUMERICHOST) == 0) {
        addresses.emplace_back(text.data());
      }
    }
    ::freeaddrinfo(found);
    if (addresses.empty()) why = "no usable address";
  }
  const std::lock_guard lock(lookup.mutex);
  lookup.addresses = std::move(addresses);
  lookup.why = std::move(why);
  lookup.done = true;
  lookup.done_signal.notify_all();
}

}  // namespace

Result<std::vector<std::string>> numeric_hosts(const std::string& host, Deadline deadline) {
  if (is_numeric(host)) return std::vector<std::string>{host};
  try {
    auto lookup = std::make_shared<Lookup>();
    std::thread([host, lookup] { resolve(host, *lookup); }).detach();
    std::unique_lock lock(lookup->mutex);
    if (!lookup->done_signal.wait_until(lock, deadline, [&] { return lookup->done; })) {
      return Error{ErrorCode::kUnavailable,
                   "resolving " + host + ": no answer in time (DNS slow or unreachable?)"};
    }
    if (lookup->addresses.empty()) {
      return Error{ErrorCode::kUnavailable, "resolving " + host + ": " + lookup->why};
    }
    return lookup->addresses;
  } catch (const std::exception& e) {  // no thread or no memory
    return Error{ErrorCode::kUnavailable, "resolving " + host + ": " + e.what()};
  }
}

}  // namespace mlops::orchestration::detail::redis
