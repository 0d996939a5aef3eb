#pragma once
/// \file Orchestration: which backend moves the messages, and where (a URI).

#include <memory>
#include <string>
#include <string_view>

#include "mlops/export.h"
#include "mlops/orchestration/backend_options.h"
#include "mlops/result.h"

namespace mlops::orchestration {

namespace detail {
class Backend;
}  // namespace detail

/// Which backend moves the messages and where, from a URI:
///
///   none:  (or none://)      every call succeeds as a no-op; one warning is logged
///   inproc://NAME            a named broker inside this process: it lives as long as the
///                            process; ?max_messages=N&max_bytes=B set its topics' default
///                            limits. A topic keeps a message until every consumer group
///                            has committed past it; named groups last as long as the
///                            broker; a topic without any group keeps its newest messages
///                            up to its limits, for a group that starts at the earliest.
///   mmap:///DIR  mmap://./DIR  a persistent queue in memory-mapped files under DIR, shared
///                            by every process on the machine; no server. A message whose
///                            send() returned survives the crash of any process; after
///                            send(msg, true) or flush() it is on disk and survives power
///                            loss. Options: segment_bytes, max_message_bytes,
///                            pending_timeout_ms, populate, retention_ms, retention_bytes,
///                            sync_commits, lease_ms, mode
///                            (src/orchestration/mmap/mmap_backend.h).
///   kafka://HOST:PORT[,HOST:PORT]  Kafka brokers (librdkafka; when built with it). Options:
///                            key, ordering, timeout_ms, assign_wait_ms, log_interval_ms;
///                            any other key is a librdkafka property, passed through
///                            (src/orchestration/kafka/kafka_client.h).
///   redis://[USER:PASSWORD@]HOST:PORT[/DB]  Redis streams (hiredis; when built with it).
///                            Options: user, password, timeout_ms, claim_idle_ms, maxlen,
///                            pipeline_messages, pipeline_bytes, linger_ms, max_in_flight,
///                            wait_replicas, wait_timeout_ms, max_message_bytes,
///                            reconnect_backoff_ms, log_interval_ms
///                            (src/orchestration/redis/redis_settings.h).
///   SCHEME://CONNECTION?key=value&key=value   query pairs become options()
///
///   auto orch = Orchestration::from_uri("inproc://pipeline");
///   if (!orch) { std::cerr << orch.error().message; return 1; }
///   auto producer = Producer::create(*orch, "etl-done");
///
/// Opening never touches the network; networked backends connect lazily.
/// Copies share the opened backend (for inproc, the broker).
/// Thread-safety: const after construction; share it between threads freely.
class MLOPS_EXPORT Orchestration {
 public:
  /// The variable detect() reads.
  static constexpr std::string_view kEnvironmentVariable = "MLOPS_ORCHESTRATION";
  /// What detect() uses when the variable is unset: the embedded persistent queue in
  /// ./.mlops, so stages run as separate processes with no server to set up.
  static constexpr std::string_view kDefaultUri = "mmap://./.mlops";

  /// Parses `uri` and opens its backend.
  /// @return the orchestration, or kInvalidArgument for a malformed URI or an unknown
  ///         scheme (the message lists the schemes this build has), or the backend's error.
  static Result<Orchestration> from_uri(std::string_view uri);

  /// $MLOPS_ORCHESTRATION when set (an error if it is malformed), else kDefaultUri.
  /// Never probes network hosts.
  static Result<Orchestration> detect();

  /// The backend's name, lower case: "none", "inproc", ...
  [[nodiscard]] const std::string& orchestrator() const noexcept { return orchestrator_; }
  /// Where it is: the inproc broker's name, a Kafka bootstrap list; empty for none.
  [[nodiscard]] const std::string& connection() const noexcept { return connection_; }
  /// Options from the URI's query (`?key=value&...`), passed through to the backend.
  [[nodiscard]] const BackendOptions& options() const noexcept { return options_; }
  /// The URI in canonical form ("inproc://NAME", "none:", with any options as a query),
  /// credentials included: for opening the same endpoint elsewhere, not for printing.
  [[nodiscard]] std::string uri() const;
  /// uri() with its secrets replaced by "***" (a `user:password@` connection's password, and
  /// options named like password, secret, token or credential): for logs and messages.
  [[nodiscard]] std::string redacted_uri() const;

 private:
  friend class Producer;
  friend class Consumer;
  friend class Admin;
  friend class OrchestrationBuilder;
  Orchestration() = default;

  std::string orchestrator_;
  std::string connection_;
  BackendOptions options_;
  std::shared_ptr<detail::Backend> backend_;
};

}  // namespace mlops::orchestration
