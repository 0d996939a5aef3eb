#include "orchestration/redis/redis_connection.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "orchestration/redis/redis_resolve.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::redis {
namespace {

Error unavailable(const RedisSettings& settings, const std::string& why) {
  return Error{ErrorCode::kUnavailable, "redis " + settings.where() + ": " + why};
}

/// Most elements one reply array may announce. hiredis 0.14 callocs an array from the
/// count a peer sends (`*2147483647` is 16 GiB, and freeing it walks every slot): counts
/// above this are refused before anything is allocated. Far above any reply the backend
/// asks for (COUNT is at most a batch).
constexpr int kMaxReplyElements = 1 << 22;

void* (*g_create_array)(const redisReadTask*, int) = nullptr;

void* guarded_create_array(const redisReadTask* task, int elements) {
  if (elements > kMaxReplyElements) return nullptr;  // the reader reports REDIS_ERR_OOM
  return g_create_array(task, elements);
}

/// hiredis's reply functions with createArray bounded (made once: the defaults are shared).
redisReplyObjectFunctions* guarded_functions(const redisReplyObjectFunctions& base) {
  static redisReplyObjectFunctions guarded = [&] {
    redisReplyObjectFunctions copy = base;
    g_create_array = base.createArray;
    copy.createArray = &guarded_create_array;
    return copy;
  }();
  return &guarded;
}

}  // namespace

namespace {
std::atomic<std::uint64_t> g_forks{0};
}  // namespace

std::uint64_t fork_generation() noexcept {
  static const bool registered = ::pthread_atfork(nullptr, nullptr, [] {
                                   g_forks.fetch_add(1, std::memory_order_relaxed);
                                 }) == 0;
  (void)registered;
  return g_forks.load(std::memory_order_relaxed);
}

Connection::Connection(redisContext* context) noexcept
    : context_(context), buffer_(new (std::nothrow) char[kReadBytes]) {}

Connection::~Connection() { redisFree(context_); }

void Connection::break_with(std::string why) noexcept {
  if (problem_.empty()) problem_ = std::move(why);
}

void Connection::take_error(std::string_view doing) noexcept {
  std::string why;
  switch (context_->err) {
    case REDIS_ERR_EOF: why = "the server closed the connection"; break;
    case REDIS_ERR_OOM:
      why = "not a Redis server, or a damaged reply (a reply announcing more than " +
            std::to_string(kMaxReplyElements) + " elements, or out of memory)";
      break;
    case REDIS_ERR_PROTOCOL:
      why = "not a Redis server, or a damaged reply (protocol error: " +
            std::string(context_->errstr) + ")";
      break;
    default: why = std::string(doing) + " failed (" + context_->errstr + ")"; break;
  }
  break_with(std::move(why));
}

int Connection::wait(short events, Deadline deadline) noexcept {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd fd{context_->fd, events, 0};
    const int ready =
        ::poll(&fd, 1, static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return -1;
    if (ready == 0) {
      if (Clock::now() < deadline) continue;  // a wait longer than poll's slice
      return 0;
    }
    return 1;  // readable, writable, or an error hiredis will report
  }
}

bool Connection::append(std::span<const std::string_view> args) noexcept {
  if (broken()) return false;
  constexpr std::size_t kInline = 16;
  const char* inline_argv[kInline];
  std::size_t inline_len[kInline];
  std::vector<const char*> heap_argv;
  std::vector<std::size_t> heap_len;
  const char** argv = inline_argv;
  std::size_t* lens = inline_len;
  try {
    if (args.size() > kInline) {
      heap_argv.resize(args.size());
      heap_len.resize(args.size());
      argv = heap_argv.data();
      lens = heap_len.data();
    }
  } catch (...) {
    return false;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lens[i] = args[i].size();
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(args.size()), argv, lens) != REDIS_OK) {
    take_error("queueing a command");
    return false;
  }
  return true;
}

std::size_t Connection::unwritten() const noexcept {
  return context_->obuf == nullptr ? 0 : sdslen(context_->obuf);
}

void Connection::consume_written(std::size_t written) noexcept {
  if (written >= sdslen(context_->obuf)) {
    sdsfree(context_->obuf);
    context_->obuf = sdsempty();
  } else {
    sdsrange(context_->obuf, static_cast<int>(written), -1);  // written < obuf's length
  }
}

// The socket is blocking (cleared O_NONBLOCK after connecting): every write first tries
// without waiting (MSG_DONTWAIT); when the socket is full, a blocking send() bounded by
// SO_SNDTIMEO waits for room, which measured twice as fast for 2 KB messages as poll() and
// partial writes. MSG_NOSIGNAL: a closed connection is an error value, never SIGPIPE.
Status Connection::write(Deadline deadline) noexcept {
  if (broken()) return Status::kError;
  while (unwritten() > 0) {
    ssize_t sent =
        ::send(context_->fd, context_->obuf, sdslen(context_->obuf), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) return Status::kTimeout;
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
      const auto bounded = std::clamp<std::int64_t>(micros, 1000, 3'600'000'000);
      timeval timeout{static_cast<time_t>(bounded / 1'000'000),
                      static_cast<suseconds_t>(bounded % 1'000'000)};
      ::setsockopt(context_->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      sent = ::send(context_->fd, context_->obuf, sdslen(context_->obuf), MSG_NOSIGNAL);
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;  // deadline next
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) {
      break_with(std::string("writing failed (") + std::strerror(errno) + ")");
      return Status::kError;
    }
    consume_written(static_cast<std::size_t>(sent));
  }
  return Status::kOk;
}

ReplyPtr Connection::read(Deadline deadline, Status& status) noexcept {
  status = Status::kError;
  if (broken()) return nullptr;
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
      take_error("reading");
      return nullptr;
    }
    if (raw != nullptr) {
      status = Status::kOk;
      return ReplyPtr(static_cast<redisReply*>(raw));
    }
    // Whatever is queued must go out for a reply to come (without waiting here).
    if (unwritten() > 0 && write(Clock::time_point{}) == Status::kError) return nullptr;
    const ssize_t got = ::recv(context_->fd, buffer_.get(), kReadBytes, MSG_DONTWAIT);
    if (got > 0) {
      if (redisReaderFeed(context_->reader, buffer_.get(), static_cast<std::size_t>(got)) !=
          REDIS_OK) {
        break_with("out of memory reading a reply");
        return nullptr;
      }
      if (max_buffered_ != 0 && context_->reader->len > max_buffered_) {
        break_with("not a Redis server (more than " + std::to_string(max_buffered_ / 1024) +
                   " KiB in reply to the handshake)");
        return nullptr;
      }
      continue;
    }
    if (got == 0) {
      break_with("the server closed the connection");
      return nullptr;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      break_with(std::string("reading failed (") + std::strerror(errno) + ")");
      return nullptr;
    }
    const short events = static_cast<short>(POLLIN | (unwritten() > 0 ? POLLOUT : 0));
    const int ready = wait(events, deadline);
    if (ready == 0) {
      status = Status::kTimeout;
      return nullptr;
    }
    if (ready < 0) {
      break_with(std::string("waiting to read failed (") + std::strerror(errno) + ")");
      return nullptr;
    }
  }
}

Result<ReplyPtr> Connection::command(std::span<const std::string_view> args, Deadline deadline) {
  if (!append(args)) return Error{ErrorCode::kUnavailable, problem_};
  Status status = Status::kOk;
  auto reply = read(deadline, status);
  if (reply) return reply;
  if (status == Status::kTimeout) {
    break_with("no reply in time");
    return Error{ErrorCode::kTimeout, "no reply in time"};
  }
  return Error{ErrorCode::kUnavailable, problem_};
}

Result<std::unique_ptr<Connection>> Connection::connect_tcp(const std::string& address,
                                                            const RedisSettings& settings,
                                                            Deadline deadline) {
  redisContext* context = redisConnectNonBlock(address.c_str(), settings.port);
  if (context == nullptr) return unavailable(settings, "out of memory");
  std::unique_ptr<Connection> connection(new (std::nothrow) Connection(context));
  if (!connection || !connection->buffer_) {
    if (!connection) redisFree(context);
    return unavailable(settings, "out of memory");
  }
  if (context->reader != nullptr && context->reader->fn != nullptr) {
    context->reader->fn = guarded_functions(*context->reader->fn);
  }
  if (context->err != 0) {
    if (std::strstr(context->errstr, "refused") != nullptr) {
      return unavailable(settings, "connection refused (no server listening on that port)");
    }
    return unavailable(settings, std::string("cannot connect (") + context->errstr + ")");
  }
  // The TCP handshake, bounded by the deadline.
  const int ready = connection->wait(POLLOUT, deadline);
  if (ready == 0)
    return unavailable(settings, "no TCP connection in time (host down or filtered?)");
  int socket_error = 0;
  socklen_t length = sizeof socket_error;
  if (ready < 0 || ::getsockopt(context->fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0) {
    socket_error = errno;
  }
  if (socket_error == ECONNREFUSED) {
    return unavailable(settings, "connection refused (no server listening on that port)");
  }
  if (socket_error != 0) {
    return unavailable(settings,
                       std::string("cannot connect (") + std::strerror(socket_error) + ")");
  }
  redisEnableKeepAlive(context);
  // Blocking from here on: every read and write says for itself whether it may wait.
  const int flags = ::fcntl(connection->context_->fd, F_GETFL);
  if (flags < 0 || ::fcntl(connection->context_->fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return unavailable(settings,
                       std::string("cannot set up the socket (") + std::strerror(errno) + ")");
  }
  return connection;
}

Result<std::unique_ptr<Connection>> Connection::open(const RedisSettings& settings,
                                                     Deadline deadline) {
  // hiredis would resolve a name with getaddrinfo(), unbounded: resolved here by the deadline.
  auto addresses = numeric_hosts(settings.host, deadline);
  if (!addresses) return unavailable(settings, addresses.error().message);
  // Each address in turn, as hiredis does (localhost: ::1, then 127.0.0.1).
  Result<std::unique_ptr<Connection>> connected = unavailable(settings, "no address");
  for (const auto& address : *addresses) {
    connected = connect_tcp(address, settings, deadline);
    if (connected || Clock::now() >= deadline) break;
  }
  if (!connected) return connected.error();
  std::unique_ptr<Connection> connection = std::move(*connected);

  // AUTH, SELECT and PING in one round trip; PING's +PONG shows the peer speaks Redis.
  constexpr std::size_t kHandshakeReplyBytes = 64 * 1024;
  connection->max_buffered_ = kHandshakeReplyBytes;
  std::vector<std::string> commands;
  const std::string db = std::to_string(settings.db);
  std::size_t expected = 0;
  if (!settings.password.empty()) {
    if (settings.user.empty()) {
      const std::string_view auth[] = {"AUTH", settings.password};
      connection->append(auth);
    } else {
      const std::string_view auth[] = {"AUTH", settings.user, settings.password};
      connection->append(auth);
    }
    ++expected;
  }
  if (settings.db != 0) {
    const std::string_view select[] = {"SELECT", db};
    connection->append(select);
    ++expected;
  }
  const std::string_view ping[] = {"PING"};
  connection->append(ping);
  ++expected;
  for (std::size_t i = 0; i < expected; ++i) {
    Status status = Status::kOk;
    auto reply = connection->read(deadline, status);
    if (status == Status::kTimeout) {
      return unavailable(
          settings,
          "connected, but no Redis reply in time (a stalled or overloaded server, or not Redis?)");
    }
    if (!reply) return unavailable(settings, connection->problem());
    const bool is_auth = !settings.password.empty() && i == 0;
    const bool is_ping = i + 1 == expected;
    if (reply->type == REDIS_REPLY_ERROR) {
      const auto text = reply_text(*reply);
      if (is_auth || text.starts_with("NOAUTH") || text.starts_with("WRONGPASS")) {
        return Error{
            ErrorCode::kUnavailable,
            "redis " + settings.where() + ": authentication failed (" + quote_text(text) + ")"};
      }
      return unavailable(settings, "the server refused " +
                                       std::string(is_ping ? "PING" : "SELECT") + " (" +
                                       quote_text(text) + ")");
    }
    if (is_ping && (reply->type != REDIS_REPLY_STATUS || reply_text(*reply) != "PONG")) {
      return unavailable(settings, "not a Redis server (PING got no PONG)");
    }
  }
  connection->max_buffered_ = 0;
  return connection;
}

}  // namespace mlops::orchestration::detail::redis
