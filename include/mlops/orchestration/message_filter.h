#pragma once
/// \file MessageFilter: a non-owning reference to the predicate receive() applies.

#include <memory>
#include <type_traits>

#include "mlops/export.h"
#include "mlops/messaging/mlops_message.h"

namespace mlops::orchestration {

/// A reference to a callable `bool(const MLOpsMessage&)` that receive() runs on each
/// verified, zero-copy message before it is handed out; the default accepts everything.
/// It refers to the callable without copying it (no allocation), so it must not outlive
/// it: pass a lambda straight to receive(). The callable must not throw.
///
///   consumer.receive([](const MLOpsMessage& m) { return m.stage() == Stage::TRAIN; });
///
/// Thread-safety: a plain reference; as safe as the callable it refers to.
class MLOPS_EXPORT MessageFilter {
 public:
  /// Accepts every message.
  MessageFilter() noexcept = default;

  /// Refers to `filter` (a lambda or function object), which must outlive this reference.
  template <typename F>
  requires(!std::same_as<std::remove_cvref_t<F>, MessageFilter> &&
           !std::is_function_v<std::remove_reference_t<F>> &&
           std::is_invocable_r_v<bool, F&, const messaging::MLOpsMessage&>)
      MessageFilter(F&& filter)
  noexcept  // NOLINT(implicit): lambdas convert at the call
      : target_{.object = const_cast<void*>(static_cast<const void*>(std::addressof(filter)))},
        call_(&call_object<std::remove_reference_t<F>>) {}

  /// Refers to a plain function.
  MessageFilter(bool (*filter)(const messaging::MLOpsMessage&)) noexcept  // NOLINT(implicit)
      : target_{.function = filter}, call_(filter ? &call_function : nullptr) {}

  /// True when `message` passes (always, for the default filter).
  [[nodiscard]] bool operator()(const messaging::MLOpsMessage& message) const {
    return call_ == nullptr || call_(target_, message);
  }

 private:
  union Target {
    void* object;
    bool (*function)(const messaging::MLOpsMessage&);
  };
  template <typename F>
  static bool call_object(Target target, const messaging::MLOpsMessage& message) {
    return static_cast<bool>((*static_cast<F*>(target.object))(message));
  }
  static bool call_function(Target target, const messaging::MLOpsMessage& message) {
    return target.function(message);
  }

  Target target_{.object = nullptr};
  bool (*call_)(Target, const messaging::MLOpsMessage&) = nullptr;
};

}  // namespace mlops::orchestration
