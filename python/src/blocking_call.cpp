// The registry of Lockables, the at-fork hooks that make fork() wait for calls in flight,
// slices and signals (see blocking_call.h).
#include "blocking_call.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <unordered_set>

namespace mlops::python {
namespace {

std::mutex registry_mutex;
std::unordered_set<Lockable*> registry;  // guarded by registry_mutex
std::atomic<bool> exiting{false};        // set at interpreter exit (atexit)
unsigned long main_thread = 0;           // threading.main_thread().ident: the one that exits

// os.fork()'s hooks run with the GIL held. A thread inside a call holds its object's mutex
// without the GIL and never needs the GIL to finish its slice, so taking every mutex here
// waits at most for those slices; the log queue's lock is taken last, after the calls that
// may log under it are out.
void before_fork() {
  registry_mutex.lock();
  for (Lockable* object : registry) object->mutex.lock();
  lock_log_queue();
}

void after_fork() {
  unlock_log_queue();
  for (Lockable* object : registry) object->mutex.unlock();
  registry_mutex.unlock();
}

}  // namespace

Lockable::Lockable() {
  const std::lock_guard lock(registry_mutex);
  registry.insert(this);
}

Lockable::~Lockable() {
  const std::lock_guard lock(registry_mutex);
  registry.erase(this);
}

void in_destructor_without_gil(void (*call)(void*), void* context) noexcept {
  if (PyGILState_Check() == 0) {
    call(context);
    return;
  }
  PyThreadState* state = PyEval_SaveThread();
  call(context);
  // After atexit Python ends any thread other than the finalising (main) one that takes the
  // GIL back (pthread_exit, unwinding through this noexcept destructor: std::terminate). A
  // daemon thread has nothing left to do once the interpreter exits: park it.
  if (exiting.load(std::memory_order_acquire) && PyThread_get_thread_ident() != main_thread) {
    for (;;) pause();
  }
  PyEval_RestoreThread(state);
}

std::chrono::milliseconds SlicedWait::next() const noexcept {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline_ - orchestration::detail::Clock::now());
  return std::clamp(left, std::chrono::milliseconds::zero(), kSlice);
}

void check_signals() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

void install_call_guards(py::module_& m) {
  m.def("_before_fork", &before_fork, "Holds every producer's and consumer's lock (os.fork).");
  m.def("_after_fork", &after_fork, "Releases what _before_fork holds, in parent and child.");
  m.def(
      "_mark_exiting", [] { exiting.store(true, std::memory_order_release); },
      "Tells waits in destructors that the interpreter exits (atexit).");
  py::module_::import("os").attr("register_at_fork")(
      py::arg("before") = m.attr("_before_fork"),
      py::arg("after_in_parent") = m.attr("_after_fork"),
      py::arg("after_in_child") = m.attr("_after_fork"));
  py::module_::import("atexit").attr("register")(m.attr("_mark_exiting"));
  main_thread =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
}

}  // namespace mlops::python
