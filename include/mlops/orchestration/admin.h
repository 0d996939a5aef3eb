#pragma once
/// \file Admin: checks a backend and manages its topics.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/export.h"
#include "mlops/orchestration/orchestration.h"
#include "mlops/orchestration/topic_options.h"
#include "mlops/result.h"

namespace mlops::orchestration {

/// One consumer group's progress in one topic (Admin::lag()).
struct MLOPS_EXPORT GroupLag {
  /// The group's name.
  std::string group;
  /// Its committed position (backend units, as TopicLag::end); nullopt if it never committed.
  std::optional<std::uint64_t> committed;
  /// Messages in the topic that the group has not committed yet (from the oldest message
  /// held when it never committed).
  std::uint64_t lag = 0;
};

/// What a topic holds and how far each consumer group got in it (Admin::lag()).
/// Positions are the backend's: mmap, byte offsets in the topic's log; kafka, offsets
/// summed over the partitions (so a group's lag is end minus committed there); redis, entry
/// counts (end: entries ever added to the stream; a group's committed is end minus its lag,
/// its lag being the entries not yet delivered to it plus those delivered but not
/// acknowledged).
struct MLOPS_EXPORT TopicLag {
  /// The topic's name.
  std::string topic;
  /// Position of the oldest message held, and of the next one to be written.
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  /// Messages held between start and end.
  std::uint64_t messages = 0;
  /// Bytes the topic takes (mmap: its files on disk); nullopt where the backend cannot say.
  std::optional<std::uint64_t> bytes;
  /// The groups, sorted by name.
  std::vector<GroupLag> groups;
};

/// Checks that a backend is reachable and manages its topics.
///
///   auto admin = Admin::create(orch).value();
///   if (auto ok = admin.validate_connection(); !ok) std::cerr << ok.error().message;
///
/// Thread-safety: all calls may be made from several threads at once.
class MLOPS_EXPORT Admin {
 public:
  /// An admin client for `orchestration`.
  /// @return the client, or the backend's error.
  static Result<Admin> create(const Orchestration& orchestration);

  /// Takes over `other`, which is left closed.
  Admin(Admin&& other) noexcept;
  /// Closes this one, then takes over `other`, which is left closed.
  Admin& operator=(Admin&& other) noexcept;
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;
  /// Closes the client.
  ~Admin();

  /// Checks that the backend answers within `timeout`.
  /// @return success, kUnavailable, kTimeout, or kUnavailable when closed.
  Result<void> validate_connection(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// The topics the backend has, sorted.
  /// @return the names, or kUnavailable.
  Result<std::vector<std::string>> topics();
  /// Creates topic `name`; a topic that exists already is left as it is (success).
  /// @return success, kInvalidArgument for an invalid name or options, or kUnavailable.
  Result<void> create_topic(std::string_view name, const TopicOptions& options = {});
  /// Each topic (or only `topic` when not empty) with its message count and every consumer
  /// group's committed position and lag, sorted by topic. `groups` chooses the groups:
  /// nullopt, every group the backend can list (mmap: all; kafka: those its brokers list,
  /// so name them where a broker cannot list groups; redis: all but the groups it makes for
  /// consumers without one); empty, none (the topics' figures
  /// only); else those named. Reads only: no group is joined or moved.
  ///
  ///   for (const auto& t : admin.lag("etl-done").value())
  ///     for (const auto& g : t.groups) std::cout << g.group << " lag " << g.lag << '\n';
  ///
  /// @return the topics; kNotFound for a `topic` the backend does not have; kInvalidArgument
  ///         for an invalid topic or group name; kUnavailable when closed, unreachable, or on
  ///         a backend that keeps no positions to report (none, inproc); kTimeout.
  Result<std::vector<TopicLag>> lag(
      std::string_view topic = {},
      const std::optional<std::vector<std::string>>& groups = std::nullopt);
  /// Releases the client; later calls fail with kUnavailable. Idempotent.
  void close() noexcept;

 private:
  struct Impl;
  explicit Admin(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlops::orchestration
