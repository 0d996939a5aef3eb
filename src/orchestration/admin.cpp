#include "mlops/orchestration/admin.h"

#include <atomic>
#include <mutex>

#include "mlops/orchestration/topic_list.h"
#include "orchestration/backend.h"
#include "orchestration/deadline.h"
#include "orchestration/uri.h"

namespace mlops::orchestration {
namespace {

Error closed_error() { return Error{ErrorCode::kUnavailable, "the admin client is closed"}; }

}  // namespace

struct Admin::Impl {
  std::shared_ptr<detail::AdminBackend> backend;  // swapped out under mutex by close()
  std::mutex mutex;

  std::shared_ptr<detail::AdminBackend> get() {
    const std::lock_guard lock(mutex);
    return backend;
  }
};

Result<Admin> Admin::create(const Orchestration& orchestration) {
  if (orchestration.backend_ == nullptr) {
    return Error{ErrorCode::kInvalidArgument, "the orchestration was moved from"};
  }
  auto backend = orchestration.backend_->make_admin();
  if (!backend) return backend.error();
  auto impl = std::make_unique<Impl>();
  impl->backend = std::move(*backend);
  return Admin(std::move(impl));
}

Admin::Admin(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Admin::Admin(Admin&&) noexcept = default;
Admin& Admin::operator=(Admin&&) noexcept = default;
Admin::~Admin() = default;

Result<void> Admin::validate_connection(std::chrono::milliseconds timeout) {
  auto backend = impl_ ? impl_->get() : nullptr;
  if (backend == nullptr) return closed_error();
  return backend->validate_connection(detail::deadline_after(timeout));
}

Result<std::vector<std::string>> Admin::topics() {
  auto backend = impl_ ? impl_->get() : nullptr;
  if (backend == nullptr) return closed_error();
  return backend->topics();
}

Result<void> Admin::create_topic(std::string_view name, const TopicOptions& options) {
  auto backend = impl_ ? impl_->get() : nullptr;
  if (backend == nullptr) return closed_error();
  if (!is_valid_topic_name(name)) {
    return Error{ErrorCode::kInvalidArgument,
                 "invalid topic name " + detail::quote_text(name) +
                     ": topics match ^[A-Za-z0-9._-]{1,249}$ and are not . or .."};
  }
  return backend->create_topic(name, options);
}

Result<std::vector<TopicLag>> Admin::lag(std::string_view topic,
                                         const std::optional<std::vector<std::string>>& groups) {
  auto backend = impl_ ? impl_->get() : nullptr;
  if (backend == nullptr) return closed_error();
  if (!topic.empty() && !is_valid_topic_name(topic)) {
    return Error{ErrorCode::kInvalidArgument,
                 "invalid topic name " + detail::quote_text(topic) +
                     ": topics match ^[A-Za-z0-9._-]{1,249}$ and are not . or .."};
  }
  for (const auto& group : groups.value_or(std::vector<std::string>{})) {
    if (!is_valid_topic_name(group)) {
      return Error{ErrorCode::kInvalidArgument,
                   "invalid group name " + detail::quote_text(group) +
                       ": groups match ^[A-Za-z0-9._-]{1,249}$ and are not . or .."};
    }
  }
  return backend->lag(topic, groups);
}

void Admin::close() noexcept {
  if (impl_ == nullptr) return;
  const std::lock_guard lock(impl_->mutex);
  impl_->backend.reset();
}

}  // namespace mlops::orchestration
