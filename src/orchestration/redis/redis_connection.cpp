#include "orchestration/redis/redis_connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "orchestration/uri.h"

namespace mlops::orchestration::detail::redis {
namespace {

Error unavailable(const RedisSettings& settings, const std::string& why) {
  return Error{ErrorCode::kUnavailable, "redis " + settings.where() + ": " + why};
}

}  // namespace

Connection::~Connection() { redisFree(context_); }

void Connection::break_with(std::string why) noexcept {
  if (problem_.empty()) problem_ = std::move(why);
}

void Connection::take_error(std::string_view doing) noexcept {
  std::string why;
  switch (context_->err) {
    case REDIS_ERR_EOF: why = "the server closed the connection"; break;
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

Status Connection::write(Deadline deadline) noexcept {
  if (broken()) return Status::kError;
  for (;;) {
    int done = 0;
    if (redisBufferWrite(context_, &done) != REDIS_OK) {
      take_error("writing");
      return Status::kError;
    }
    if (done) return Status::kOk;
    const int ready = wait(POLLOUT, deadline);
    if (ready == 0) return Status::kTimeout;
    if (ready < 0) {
      break_with(std::string("waiting to write failed (") + std::strerror(errno) + ")");
      return Status::kError;
    }
  }
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
    // Read what is there before asking poll(): a large reply comes in many reads, and a
    // non-blocking read that finds nothing costs no more than a poll() that finds nothing.
    const std::size_t buffered = context_->reader->len;
    if (redisBufferRead(context_) != REDIS_OK) {
      take_error("reading");
      return nullptr;
    }
    if (context_->reader->len != buffered) continue;
    // Whatever is queued must go out for a reply to come.
    short events = POLLIN;
    if (unwritten() > 0) {
      int done = 0;
      if (redisBufferWrite(context_, &done) != REDIS_OK) {
        take_error("writing");
        return nullptr;
      }
      if (!done) events |= POLLOUT;
    }
    const int ready = wait(events, deadline);
    if (ready == 0) {
      status = Status::kTimeout;
      return nullptr;
    }
    if (ready < 0) {
      break_with(std::string("waiting to read failed (") + std::strerror(errno) + ")");
      return nullptr;
    }
    // Non-blocking: nothing to read yet (only writable) is not an error.
    if (redisBufferRead(context_) != REDIS_OK) {
      take_error("reading");
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

Result<std::unique_ptr<Connection>> Connection::open(const RedisSettings& settings,
                                                     Deadline deadline) {
  redisContext* context = redisConnectNonBlock(settings.host.c_str(), settings.port);
  if (context == nullptr) return unavailable(settings, "out of memory");
  std::unique_ptr<Connection> connection(new (std::nothrow) Connection(context));
  if (!connection) {
    redisFree(context);
    return unavailable(settings, "out of memory");
  }
  if (context->err != 0) {
    if (std::strstr(context->errstr, "refused") != nullptr) {
      return unavailable(settings, "connection refused (no server listening on that port)");
    }
    return unavailable(settings, std::string("cannot connect (") + context->errstr + ")");
  }
  // The TCP handshake, bounded by the deadline.
  const int ready = connection->wait(POLLOUT, deadline);
  if (ready == 0) return unavailable(settings, "no TCP connection in time (host down or filtered?)");
  int socket_error = 0;
  socklen_t length = sizeof socket_error;
  if (ready < 0 || ::getsockopt(context->fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0) {
    socket_error = errno;
  }
  if (socket_error == ECONNREFUSED) {
    return unavailable(settings, "connection refused (no server listening on that port)");
  }
  if (socket_error != 0) {
    return unavailable(settings, std::string("cannot connect (") + std::strerror(socket_error) + ")");
  }
  redisEnableKeepAlive(context);

  // AUTH, SELECT and PING in one round trip; PING's +PONG shows the peer speaks Redis.
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
      return unavailable(settings, "connected, but no Redis reply in time (a stalled or overloaded server, or not Redis?)");
    }
    if (!reply) return unavailable(settings, connection->problem());
    const bool is_auth = !settings.password.empty() && i == 0;
    const bool is_ping = i + 1 == expected;
    if (reply->type == REDIS_REPLY_ERROR) {
      const auto text = reply_text(*reply);
      if (is_auth || text.starts_with("NOAUTH") || text.starts_with("WRONGPASS")) {
        return Error{ErrorCode::kUnavailable,
                     "redis " + settings.where() + ": authentication failed (" +
                         quote_text(text) + ")"};
      }
      return unavailable(settings, "the server refused " +
                                       std::string(is_ping ? "PING" : "SELECT") + " (" +
                                       quote_text(text) + ")");
    }
    if (is_ping && (reply->type != REDIS_REPLY_STATUS || reply_text(*reply) != "PONG")) {
      return unavailable(settings, "not a Redis server (PING got no PONG)");
    }
  }
  return connection;
}

}  // namespace mlops::orchestration::detail::redis
