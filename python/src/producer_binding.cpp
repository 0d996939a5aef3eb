// mlops.orchestration.Producer. Every wait (room on a full topic, flush, close) runs with the
// GIL released in slices of kSlice, between which Ctrl-C and close() from another thread are
// seen: the C++ producer is made with a send_timeout of one slice and a flush_timeout of 0,
// and the caller's timeouts are kept here.
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "blocking_call.h"
#include "fast_call.h"
#include "mlops/log.h"
#include "mlops/orchestration/producer.h"
#include "orchestration_arguments.h"
#include "orchestration_errors.h"

namespace mlops::python {
namespace {

using messaging::MLOpsMessage;
using orchestration::Producer;
using orchestration::Status;
using std::chrono::milliseconds;

struct PyProducer : Lockable {
  std::optional<Producer> producer;
  milliseconds send_timeout{0};   // the caller's wait for room (back_pressure "block")
  milliseconds flush_timeout{0};  // the caller's wait in close() and send(flush=True)
  bool sliced_sends = false;      // the core waits one slice per try; the rest is waited here
  std::atomic<std::uint64_t> retried{0};  // slices retried: the core counted each back-pressured

  PyProducer() = default;
  PyProducer(const PyProducer&) = delete;
  PyProducer& operator=(const PyProducer&) = delete;
  // Dropped without close(): flushed and closed as close() would, with the GIL released so
  // that other threads run meanwhile (a flush may wait seconds for an unreachable broker).
  ~PyProducer() {
    if (!producer || closing.load()) return;
    in_destructor_without_gil([this] {
      SlicedWait wait(flush_timeout);
      for (;;) {  // in slices, so that an os.fork() in another thread waits at most one
        Status status = Status::kOk;
        {
          const std::lock_guard lock(mutex);
          status = producer->flush(wait.next());
        }
        if (status != Status::kTimeout || wait.expired()) break;
      }
      const std::lock_guard lock(mutex);
      (void)producer->close();
    });
  }
};

}  // namespace
}  // namespace mlops::python

MLOPS_CHECKED_CASTER(mlops::python::PyProducer)

namespace mlops::python {
namespace {

[[noreturn]] void raise_closed(const char* what) { raise_status(Status::kClosed, what, false); }

// Waits up to `timeout` in slices until the backend holds everything sent. kClosed when
// `stop_on_close` and another thread closes the producer meanwhile.
Status flush_for(PyProducer& self, milliseconds timeout, bool stop_on_close) {
  SlicedWait wait(timeout);
  for (;;) {
    const Status status = locked(self, [&] { return self.producer->flush(wait.next()); });
    if (status != Status::kTimeout || wait.expired()) return status;
    check_signals();
    if (stop_on_close && self.closing.load()) return Status::kClosed;
  }
}

// One message to its own topics (or the producer's), waiting for room in slices. With one
// topic (the usual case) that is send() tried again while a slice runs out; with several,
// each topic on its own (send_to), so that a retry never sends a topic's copy twice. An
// invalid or missing topic goes to send(), which refuses without sending anything.
// @return the first failure, after trying every topic, as Producer::send().
Status send_in_slices(PyProducer& self, const MLOpsMessage& message) {
  const auto own = message.topic();
  const auto& defaults = self.producer->topics();
  const std::size_t count = own.empty() ? defaults.size() : own.size();
  const auto topic = [&](std::size_t i) {
    return own.empty() ? std::string_view(defaults[i]) : own[i];
  };
  bool per_topic = count > 1;
  for (std::size_t i = 0; per_topic && i < count; ++i) {
    per_topic = orchestration::is_valid_topic_name(topic(i));
  }
  SlicedWait wait(self.send_timeout);
  Status result = Status::kOk;
  std::size_t next = 0;  // with per_topic: the topic to try next
  for (;;) {
    const bool slice_ran_out = locked(self, [&] {
      if (!per_topic) {
        result = self.producer->send(message);
        return result == Status::kTimeout && !wait.expired();
      }
      for (; next < count; ++next) {
        const Status status = self.producer->send_to(topic(next), message);
        if (status == Status::kTimeout && !wait.expired()) return true;  // try this one again
        if (result == Status::kOk) result = status;
      }
      return false;
    });
    if (!slice_ran_out) return result;
    check_signals();  // Ctrl-C: the topics before `next` have the message, the rest do not
    if (self.closing.load()) return Status::kClosed;
    self.retried.fetch_add(1, std::memory_order_relaxed);
  }
}

Status send(PyProducer& self, const MLOpsMessage& message) {
  if (self.closing.load()) return Status::kClosed;
  if (!self.sliced_sends) return locked(self, [&] { return self.producer->send(message); });
  return send_in_slices(self, message);
}

void send_and_flush(PyProducer& self, const MLOpsMessage& message, bool flush) {
  Status status = send(self, message);
  if (status == Status::kOk && flush) status = flush_for(self, self.flush_timeout, true);
  if (status != Status::kOk) raise_status(status, "send", true);
}

PyTypeObject* message_class = nullptr;  // mlops.messaging.MLOpsMessage

// send(message, flush=False) as a METH_FASTCALL descriptor: the per-message path.
PyObject* producer_send(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                        PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    static const char* const names[] = {"message", "flush"};
    PyObject* values[] = {nullptr, Py_False};
    if (!parse_arguments(args, nargs, kwnames, names, values, "send")) return nullptr;
    PyObject* message = values[0];
    if (message == nullptr || PyObject_TypeCheck(message, message_class) == 0) {
      throw py::type_error("send() needs an MLOpsMessage as message");
    }
    const int flush = PyObject_IsTrue(values[1]);
    if (flush < 0) throw py::error_already_set();
    auto* producer = cpp_self<PyProducer>(self);
    const auto* msg = cpp_self<MLOpsMessage>(message);
    if (producer == nullptr || msg == nullptr) return nullptr;
    send_and_flush(*producer, *msg, flush == 1);
    Py_RETURN_NONE;
  });
}

PyMethodDef producer_send_method{
    "send", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&producer_send)),
    METH_FASTCALL | METH_KEYWORDS, R"doc(send(message, flush=False)
Sends message (asynchronously; flush=True also waits until the backend holds it). Returns
None. Raises BackPressureError when a topic stays full, InvalidArgumentError for an invalid
or missing topic, ClosedError after close(), OrchestrationError otherwise.)doc"};

std::unique_ptr<PyProducer> make_producer(py::handle orchestration, py::handle topic,
                                          const py::kwargs& kwargs) {
  const auto orch = resolve_orchestration(orchestration, "orchestration");
  auto topics = topic_list(topic, "topic");
  auto options = producer_options(kwargs);
  auto self = std::make_unique<PyProducer>();
  self->send_timeout = orchestration::detail::clamp_timeout(options.send_timeout);
  self->flush_timeout = options.flush_timeout;
  self->sliced_sends =
      options.back_pressure == orchestration::BackPressure::kBlock && self->send_timeout > kSlice;
  if (self->sliced_sends) options.send_timeout = kSlice;
  options.flush_timeout = milliseconds::zero();  // flushes wait here, in slices
  self->producer.emplace(
      value_or_raise(Producer::create(orch, std::move(topics), std::move(options))));
  return self;
}

void close_producer(PyProducer& self) {
  if (self.closing.exchange(true)) return;
  Status flushed = Status::kOk;
  try {
    flushed = flush_for(self, self.flush_timeout, false);
  } catch (...) {  // Ctrl-C: close without waiting longer, then raise it
    locked(self, [&] { (void)self.producer->close(); });
    throw;
  }
  locked(self, [&] { (void)self.producer->close(); });
  if (flushed != Status::kOk && flushed != Status::kClosed) {
    log(LogLevel::kWarning, "producer close: flush ended with " + std::string(to_string(flushed)));
  }
}

}  // namespace

void bind_producer(py::module_& m) {
  py::class_<PyProducer> cls(m, "Producer", R"doc(
Sends MLOpsMessages. Producer(orchestration, topic=None, **options): the message's own
topics win over the producer's `topic` (a str or a list); a list sends once to each.
Options: back_pressure ("block" waits up to send_timeout_ms for room, "return" refuses at
once), send_timeout_ms (alias max_block_ms; default 1000), flush_timeout_ms (default 5000);
float('inf') waits without limit; anything else is passed through to the backend as text.
Threads may share a producer (calls take turns). Waits release the GIL and end early for
Ctrl-C (KeyboardInterrupt) and for close() from another thread (ClosedError).)doc");
  cls.def(py::init(&make_producer), py::arg("orchestration") = py::none(),
          py::arg("topic") = py::none())
      .def(
          "send_raw",
          [](PyProducer& self, py::handle topic, py::handle data) {
            const std::string name(utf8(topic, "topic"));
            const BytesView view(data, "data");
            const auto bytes = view.bytes();
            if (self.closing.load()) raise_closed("send_raw");
            SlicedWait wait(self.sliced_sends ? self.send_timeout : milliseconds::zero());
            for (;;) {
              const Status status =
                  locked(self, [&] { return self.producer->send_raw(name, bytes); });
              if (status == Status::kOk) return;
              if (status != Status::kTimeout || wait.expired())
                raise_status(status, "send_raw", true);
              check_signals();
              if (self.closing.load()) raise_closed("send_raw");
              self.retried.fetch_add(1, std::memory_order_relaxed);
            }
          },
          py::arg("topic"), py::arg("data"),
          "Sends bytes that may not be a message at all, unverified (bridges, tests of what "
          "consumers do with foreign payloads); raises as send().")
      .def(
          "try_send",
          [](PyProducer& self, const MLOpsMessage& message) {
            const Status status = send(self, message);
            if (status == Status::kBackPressured || status == Status::kTimeout) return false;
            if (status != Status::kOk) raise_status(status, "send", true);
            return true;
          },
          py::arg("message"),
          "As send(), but returns False instead of raising BackPressureError when a topic is full.")
      .def(
          "flush",
          [](PyProducer& self, py::handle timeout_ms) {
            const auto timeout = timeout_ms.is_none() ? orchestration::detail::kMaxTimeout
                                                      : to_ms(timeout_ms, "timeout_ms");
            const Status status = flush_for(self, timeout, true);
            if (status != Status::kOk) raise_status(status, "flush", false);
          },
          py::arg("timeout_ms") = 5000,
          "Waits until the backend holds everything sent, up to timeout_ms (None: no limit, as "
          "the original's flush()); raises OrchestrationTimeoutError when it does not in time.")
      .def("close", &close_producer,
           "Flushes (up to flush_timeout_ms) and closes; idempotent, never raises (a failed "
           "flush is logged) except KeyboardInterrupt, after which it is closed.")
      .def_property_readonly(
          "topics", [](PyProducer& self) { return self.producer->topics(); },
          "The producer's default topics.")
      .def_property_readonly("closed", [](PyProducer& self) { return self.closing.load(); })
      .def(
          "stats",
          [](PyProducer& self) {
            const auto stats = self.producer->stats();
            const auto retried = self.retried.load(std::memory_order_relaxed);
            py::dict out;
            out["sent"] = stats.sent;
            out["back_pressured"] = stats.back_pressured - std::min(retried, stats.back_pressured);
            out["failed"] = stats.failed;
            return out;
          },
          "Counts so far: sent, back_pressured, failed.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](py::object self, py::args) { self.attr("close")(); });
  message_class = reinterpret_cast<PyTypeObject*>(py::type::of<MLOpsMessage>().ptr());
  install(cls, producer_send_method);
  cls.attr("__module__") = "mlops.orchestration";
}

}  // namespace mlops::python
