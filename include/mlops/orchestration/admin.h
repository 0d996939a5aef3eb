#pragma once
/// \file Admin: checks a backend and manages its topics.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/orchestration/orchestration.h"
#include "mlops/orchestration/topic_options.h"
#include "mlops/result.h"

namespace mlops::orchestration {

/// Checks that a backend is reachable and manages its topics.
///
///   auto admin = Admin::create(orch).value();
///   if (auto ok = admin.validate_connection(); !ok) std::cerr << ok.error().message;
///
/// Thread-safety: all calls may be made from several threads at once.
class Admin {
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
  Result<void> validate_connection(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// The topics the backend has, sorted.
  /// @return the names, or kUnavailable.
  Result<std::vector<std::string>> topics();
  /// Creates topic `name`; a topic that exists already is left as it is (success).
  /// @return success, kInvalidArgument for an invalid name or options, or kUnavailable.
  Result<void> create_topic(std::string_view name, const TopicOptions& options = {});
  /// Releases the client; later calls fail with kUnavailable. Idempotent.
  void close() noexcept;

 private:
  struct Impl;
  explicit Admin(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlops::orchestration
