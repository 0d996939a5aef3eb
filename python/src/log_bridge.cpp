// The library's log lines go to Python's `logging` (logger "mlops"), so a pipeline sees them
// where it sees its own. A line logged while this thread holds the GIL goes at once; one
// logged without it (a wait with the GIL released, a backend's own thread) is queued and
// handed over at the next binding call, because taking the GIL inside the library could
// deadlock against a Python thread that waits for a lock the logging thread holds.
#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

#include "binding.h"
#include "mlops/log.h"

namespace mlops::python {
namespace {

thread_local std::string last_line;  // the last warning or error of this thread
std::mutex queue_mutex;
std::deque<std::pair<LogLevel, std::string>> queued;  // guarded by queue_mutex
std::atomic<bool> has_queued{false};
std::atomic<bool> python_alive{false};  // false before import and after interpreter exit
PyObject* logger = nullptr;             // logging.getLogger("mlops"), kept for the process

int python_level(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug: return 10;
    case LogLevel::kInfo: return 20;
    case LogLevel::kWarning: return 30;
    case LogLevel::kError: return 40;
  }
  return 40;
}

// Needs the GIL. Never raises: a failing logging handler is reported as unraisable.
void emit(LogLevel level, std::string_view message) noexcept {
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);  // an error being raised must survive the log call
  try {
    py::handle(logger).attr("log")(python_level(level), text(message));
  } catch (py::error_already_set& error) {
    error.discard_as_unraisable("mlops log bridge");
  } catch (...) {
  }
  PyErr_Restore(type, value, traceback);
}

void handle(LogLevel level, std::string_view message) {
  if (level >= LogLevel::kWarning) last_line.assign(message);
  if (!python_alive.load(std::memory_order_acquire)) {
    std::fprintf(stderr, "mlops %.*s: %.*s\n", static_cast<int>(to_string(level).size()),
                 to_string(level).data(), static_cast<int>(message.size()), message.data());
    return;
  }
  if (PyGILState_Check() != 0) {
    emit(level, message);
    return;
  }
  const std::lock_guard lock(queue_mutex);
  if (queued.size() < 1000) queued.emplace_back(level, std::string(message));
  has_queued.store(true, std::memory_order_release);
}

}  // namespace

void drain_logs() {
  if (!has_queued.load(std::memory_order_acquire)) return;
  std::deque<std::pair<LogLevel, std::string>> lines;
  {
    const std::lock_guard lock(queue_mutex);
    lines.swap(queued);
    has_queued.store(false, std::memory_order_release);
  }
  for (const auto& [level, message] : lines) emit(level, message);
}

void clear_last_log() noexcept { last_line.clear(); }

std::string last_log() { return last_line; }

void lock_log_queue() noexcept { queue_mutex.lock(); }

void unlock_log_queue() noexcept { queue_mutex.unlock(); }

void install_log_bridge(py::module_& m) {
  logger = py::module_::import("logging").attr("getLogger")("mlops").release().ptr();
  m.def("_drain_logs", &drain_logs, "Hands queued log lines of the C++ core to logging.");
  m.def(
      "_shutdown",
      [] {
        drain_logs();
        python_alive.store(false, std::memory_order_release);
      },
      "Stops routing log lines to Python (run at interpreter exit).");
  py::module_::import("atexit").attr("register")(m.attr("_shutdown"));
  python_alive.store(true, std::memory_order_release);
  set_log_handler(&handle);
}

}  // namespace mlops::python
