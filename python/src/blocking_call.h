#pragma once
/// \file How the binding waits: with the GIL released, one call at a time per Producer or
/// Consumer, in short slices between which it looks for Ctrl-C and close(), and so that
/// neither interpreter exit nor os.fork() can catch it in a state it cannot leave.
///
/// Interpreter exit: a daemon thread that takes the GIL back while Python finalises is ended
/// by pthread_exit, which unwinds its stack with abi::__forced_unwind; unwinding through a
/// noexcept frame (every destructor is one) calls std::terminate. So the GIL is taken back
/// in plain code, never in a destructor, and nothing between here and CPython is noexcept or
/// swallows that unwind (guarded() in fast_call.h rethrows it, as pybind11's dispatcher does).
///
/// Fork: every Lockable is registered, and os.fork()'s before-hook takes each one's mutex
/// (so it waits for calls in flight on other threads to finish their slice), so a child
/// never inherits a mutex held by a thread it does not have, nor a core object in mid-call.

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "binding.h"
#include "orchestration/deadline.h"

namespace mlops::python {

/// How long one wait lasts before the binding looks for Ctrl-C and close() again.
inline constexpr std::chrono::milliseconds kSlice{50};

/// What serialises the calls on one Producer or Consumer (Consumers and mmap Producers are one
/// thread at a time in C++).
/// Its mutex is only locked with the GIL released, and the GIL is never taken while it is
/// held, so neither waits for the other. Registered for the at-fork hooks while alive.
class Lockable {
 public:
  Lockable();
  ~Lockable();
  Lockable(const Lockable&) = delete;
  Lockable& operator=(const Lockable&) = delete;

  std::mutex mutex;
  /// Set by close() from any thread: a call waiting in slices stops at the next one.
  std::atomic<bool> closing{false};
};

/// Runs `call` (C++ only, no Python) with the GIL released; the GIL is taken back in plain
/// code, where an unwind at interpreter exit may pass.
template <typename F>
auto without_gil(F&& call) {
  using R = decltype(call());
  std::exception_ptr error;
  PyThreadState* state = PyEval_SaveThread();
  if constexpr (std::is_void_v<R>) {
    try {
      call();
    } catch (...) {
      error = std::current_exception();
    }
    PyEval_RestoreThread(state);
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<R> result;
    try {
      result.emplace(call());
    } catch (...) {
      error = std::current_exception();
    }
    PyEval_RestoreThread(state);
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }
}

/// Runs `call` with the GIL released and `object`'s mutex held; the log lines it queued go
/// to Python after.
template <typename F>
auto locked(Lockable& object, F&& call) {
  auto run = [&] {
    const std::lock_guard lock(object.mutex);
    clear_last_log();
    return call();
  };
  if constexpr (std::is_void_v<decltype(call())>) {
    without_gil(run);
    drain_logs();
  } else {
    auto result = without_gil(run);
    drain_logs();
    return result;
  }
}

/// Runs `call` for a destructor: with the GIL released when this thread holds it, so other
/// threads run meanwhile. A daemon thread that finds the interpreter exiting when done
/// parks for good instead of taking the GIL back (Python would unwind it through the
/// destructor, which is noexcept).
void in_destructor_without_gil(void (*call)(void*), void* context) noexcept;

template <typename F>
void in_destructor_without_gil(F&& call) noexcept {
  in_destructor_without_gil(
      [](void* context) { (*static_cast<std::remove_reference_t<F>*>(context))(); },
      static_cast<void*>(&call));
}

/// A wait of `timeout` (huge: no limit) cut into slices of at most kSlice.
class SlicedWait {
 public:
  explicit SlicedWait(std::chrono::milliseconds timeout) noexcept
      : deadline_(orchestration::detail::deadline_after(timeout)) {}
  /// The next slice: at most kSlice, at least 0.
  [[nodiscard]] std::chrono::milliseconds next() const noexcept;
  /// True once the whole wait is over.
  [[nodiscard]] bool expired() const noexcept {
    return orchestration::detail::Clock::now() >= deadline_;
  }

 private:
  orchestration::detail::Deadline deadline_;
};

/// Between slices, with the GIL: runs pending signal handlers and raises what they raised
/// (KeyboardInterrupt for Ctrl-C). Signals reach only the main thread.
void check_signals();

/// Registers the at-fork hooks (os.register_at_fork) and the exit flag (atexit).
void install_call_guards(py::module_& m);

}  // namespace mlops::python
