#pragma once
// One connection to a Redis server over hiredis, driven without blocking: every wait is a
// poll() that ends at a deadline, so no call outlives its timeout, whatever the server does
// (refuses, never answers, speaks another protocol, vanishes mid-reply).

// hiredis 0.14's sds.h lacks extern "C" (hiredis.h has it): included first, inside one.
extern "C" {
#include <hiredis/sds.h>
}
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "orchestration/backend.h"
#include "orchestration/redis/redis_settings.h"

namespace mlops::orchestration::detail::redis {

/// Frees a hiredis reply.
struct ReplyDeleter {
  void operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

/// The text of an error or status reply.
inline std::string_view reply_text(const redisReply& reply) noexcept {
  return {reply.str, reply.len};
}

/// How many fork()s this process is away from the one that loaded the library (counted by
/// a pthread_atfork child handler): an object that saw another value was inherited across
/// fork() and shares its socket with the parent, so it refuses to be used.
std::uint64_t fork_generation() noexcept;

/// A connected, authenticated, SELECTed connection. One thread at a time. Once broken()
/// (I/O error, EOF, protocol error, a reply not in by its deadline) every call fails and
/// the owner makes a new one: replies of a broken connection are never trusted.
class Connection {
 public:
  /// Connects, authenticates (AUTH), selects the database and checks the server answers
  /// PING like Redis, all by `deadline`. @return the connection, or an error whose message
  /// says what went wrong: refused, no answer, authentication failed, not a Redis server.
  static Result<std::unique_ptr<Connection>> open(const RedisSettings& settings, Deadline deadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Queues one command (the arguments are copied; binary-safe). @return false if the
  /// connection is broken or out of memory.
  bool append(std::span<const std::string_view> args) noexcept;
  /// Bytes queued but not yet written.
  [[nodiscard]] std::size_t unwritten() const noexcept;
  /// Writes queued bytes until none are left or `deadline` (now: only what fits without
  /// waiting). @return kOk (all written), kTimeout, kError (broken).
  Status write(Deadline deadline) noexcept;
  /// The next reply, waiting until `deadline` (writing queued bytes meanwhile). nullptr
  /// with kTimeout when none came in time, with kError when broken.
  ReplyPtr read(Deadline deadline, Status& status) noexcept;
  /// One command and its reply by `deadline`; no other reply may be outstanding. A reply
  /// not in by the deadline breaks the connection (it would answer the next command).
  /// @return the reply (which may be an error reply), or kTimeout/kUnavailable.
  Result<ReplyPtr> command(std::span<const std::string_view> args, Deadline deadline);

  [[nodiscard]] bool broken() const noexcept { return !problem_.empty(); }
  /// Why it broke, e.g. "connection lost (Connection reset by peer)".
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }
  /// Marks the connection unusable (e.g. a reply did not come in time) with `why`.
  void break_with(std::string why) noexcept;

 private:
  /// Bytes one read takes from the socket at most.
  static constexpr std::size_t kReadBytes = 64 * 1024;

  explicit Connection(redisContext* context) noexcept;
  /// A TCP connection to numeric `address` by `deadline`, not yet spoken to.
  static Result<std::unique_ptr<Connection>> connect_tcp(const std::string& address,
                                                         const RedisSettings& settings,
                                                         Deadline deadline);
  /// Waits for `events` on the socket until `deadline`. @return >0 ready, 0 timeout, <0 error.
  int wait(short events, Deadline deadline) noexcept;
  /// Drops the first `written` bytes of the write buffer.
  void consume_written(std::size_t written) noexcept;
  /// Takes the hiredis error into problem_.
  void take_error(std::string_view doing) noexcept;

  redisContext* context_;
  std::unique_ptr<char[]> buffer_;  // what read() receives into
  /// While not 0, more unparsed reply bytes than this break the connection: during the
  /// handshake, whose replies are a few bytes, so a peer that is not Redis and streams
  /// data cannot make the client buffer it until the deadline.
  std::size_t max_buffered_ = 0;
  std::string problem_;
};

}  // namespace mlops::orchestration::detail::redis
