// mlops.orchestration: Orchestration(Builder), Producer, Consumer, Admin and their errors.
// Every call that can wait (send, flush, receive, commit, close, validate_connection)
// releases the GIL. Consumers (and mmap Producers) are one-thread-at-a-time in C++, so each
// Python object has a mutex; it is only ever locked with the GIL released, so a thread waiting
// for it never holds the GIL that the holder may need (a receive filter runs Python).
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "binding.h"
#include "fast_call.h"
#include "mlops/log.h"
#include "mlops/orchestration.h"

namespace mlops::python {
namespace {

using messaging::MLOpsMessage;
using orchestration::Admin;
using orchestration::BackendOptions;
using orchestration::Consumer;
using orchestration::ConsumerOptions;
using orchestration::Orchestration;
using orchestration::OrchestrationBuilder;
using orchestration::Producer;
using orchestration::ProducerOptions;
using orchestration::Status;
using orchestration::TopicList;
using std::chrono::milliseconds;

PyObject* orchestration_error = nullptr;
PyObject* invalid_argument_error = nullptr;
PyObject* back_pressure_error = nullptr;
PyObject* timeout_error = nullptr;
PyObject* closed_error = nullptr;

[[noreturn]] void raise_result(const Error& error) {
  PyObject* type = orchestration_error;
  if (error.code == ErrorCode::kInvalidArgument) type = invalid_argument_error;
  if (error.code == ErrorCode::kTimeout) type = timeout_error;
  raise_error(type, error.message, to_string(error.code), "");
}

template <typename T>
T value_or_raise(Result<T> result) {
  drain_logs();
  if (!result) raise_result(result.error());
  return std::move(result).value();
}

void check(const Result<void>& result) {
  drain_logs();
  if (!result) raise_result(result.error());
}

/// Raises the exception for a failed hot-path call. On send, a timeout means "no room
/// within send_timeout" (back-pressure); elsewhere it is a timeout.
[[noreturn]] void raise_status(Status status, const std::string& what, bool sending) {
  PyObject* type = orchestration_error;
  switch (status) {
    case Status::kBackPressured:
      type = back_pressure_error;
      break;
    case Status::kTimeout:
      type = sending ? back_pressure_error : timeout_error;
      break;
    case Status::kClosed:
      type = closed_error;
      break;
    case Status::kInvalidTopic:
    case Status::kNoTopic:
      type = invalid_argument_error;
      break;
    default:
      break;
  }
  std::string message = what + ": " + std::string(to_string(status));
  if (status == Status::kInvalidTopic) message += " (topic names match ^[A-Za-z0-9._-]{1,249}$)";
  if (sending && (status == Status::kTimeout || status == Status::kBackPressured)) {
    message += " (a topic stayed full; the message was not sent)";
  }
  if (status == Status::kNoTopic)
    message += " (neither the message nor the producer names a topic)";
  if (status == Status::kDeliveryUnknown) {
    message += " (sent, but not confirmed within flush_timeout: it may still arrive, so sending "
               "it again may duplicate it)";
  }
  if (const auto detail = last_log(); !detail.empty()) message += ": " + detail;
  raise_error(type, message, "", to_string(status));
}

/// What serialises the calls on one Producer or Consumer (one thread at a time in C++).
struct Lockable {
  std::mutex mutex;
  std::atomic<std::thread::id> holder{};  // the thread inside a call, to refuse re-entry
};

/// Runs `call` with the GIL released and the object's mutex held; queued log lines go to
/// Python after. A call from inside another call on the same object (a receive filter that
/// uses its own consumer) would deadlock, so it raises instead.
template <typename F>
auto locked(Lockable& object, F&& call) {
  if (object.holder.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    throw std::runtime_error(
        "this producer or consumer is already busy in this thread "
        "(a receive filter must not use its own consumer)");
  }
  struct Drain {
    ~Drain() { drain_logs(); }
  } drain;
  py::gil_scoped_release release;
  const std::lock_guard lock(object.mutex);
  object.holder.store(std::this_thread::get_id(), std::memory_order_relaxed);
  struct Release {
    Lockable& object;
    ~Release() { object.holder.store(std::thread::id(), std::memory_order_relaxed); }
  } release_holder{object};
  clear_last_log();
  return call();
}

// --- Arguments ------------------------------------------------------------------------

Orchestration resolve(py::handle orchestration) {
  if (orchestration.is_none()) return value_or_raise(Orchestration::detect());
  if (PyUnicode_Check(orchestration.ptr())) {
    return value_or_raise(Orchestration::from_uri(utf8(orchestration, "orchestration")));
  }
  return orchestration.cast<Orchestration>();
}

TopicList topic_list(py::handle topics) {
  if (topics.is_none()) return {};
  if (PyUnicode_Check(topics.ptr())) return TopicList(utf8(topics, "topic"));
  std::vector<std::string> names;
  for (const auto topic : py::reinterpret_borrow<py::iterable>(topics)) {
    names.emplace_back(utf8(topic, "topic"));
  }
  return TopicList(std::move(names));
}

std::string option_text(py::handle value) {
  if (PyBool_Check(value.ptr())) return value.ptr() == Py_True ? "true" : "false";
  return py::str(value);
}

milliseconds to_ms(py::handle value, const char* what) {
  if (!PyLong_Check(value.ptr()) && !PyFloat_Check(value.ptr())) {
    throw py::type_error(std::string(what) + " must be a number of milliseconds");
  }
  const double ms = value.cast<double>();
  if (!(ms >= 0)) throw py::value_error(std::string(what) + " must not be negative");
  return milliseconds(static_cast<milliseconds::rep>(std::ceil(ms)));
}

milliseconds optional_ms(py::handle value, milliseconds fallback, const char* what) {
  return value.is_none() ? fallback : to_ms(value, what);
}

ProducerOptions producer_options(const py::kwargs& kwargs) {
  ProducerOptions options;
  for (const auto& [key_object, value] : kwargs) {
    const std::string key = py::str(key_object);
    if (value.is_none()) continue;
    if (key == "back_pressure") {
      const std::string policy = py::str(value);
      if (policy == "block") {
        options.back_pressure = orchestration::BackPressure::kBlock;
      } else if (policy == "return") {
        options.back_pressure = orchestration::BackPressure::kReturn;
      } else {
        raise_error(invalid_argument_error,
                    "back_pressure must be 'block' or 'return', not '" + policy + "'",
                    "invalid_argument", "");
      }
    } else if (key == "send_timeout_ms" || key == "max_block_ms") {
      options.send_timeout = to_ms(value, key.c_str());
    } else if (key == "flush_timeout_ms") {
      options.flush_timeout = to_ms(value, key.c_str());
    } else {
      options.backend.insert_or_assign(key, option_text(value));
    }
  }
  return options;
}

ConsumerOptions consumer_options(const py::kwargs& kwargs) {
  ConsumerOptions options;
  for (const auto& [key_object, value] : kwargs) {
    const std::string key = py::str(key_object);
    if (value.is_none()) continue;
    if (key == "group" || key == "group_id") {
      options.group = utf8(value, key.c_str());
    } else if (key == "auto_offset_reset" || key == "offset_reset") {
      const std::string reset = py::str(value);
      if (reset == "earliest" || reset == "smallest" || reset == "beginning") {
        options.offset_reset = orchestration::OffsetReset::kEarliest;
      } else if (reset == "latest" || reset == "largest" || reset == "end") {
        options.offset_reset = orchestration::OffsetReset::kLatest;
      } else {
        raise_error(invalid_argument_error,
                    "auto_offset_reset must be 'earliest' or 'latest', not '" + reset + "'",
                    "invalid_argument", "");
      }
    } else if (key == "max_poll_records" || key == "max_batch") {
      const auto count = value.cast<long long>();
      if (count <= 0) {
        raise_error(invalid_argument_error, key + " must be positive", "invalid_argument", "");
      }
      options.max_batch = static_cast<std::size_t>(count);
    } else if (key == "enable_auto_commit" || key == "auto_commit") {
      options.auto_commit = PyObject_IsTrue(value.ptr()) == 1;
    } else {
      options.backend.insert_or_assign(key, option_text(value));
    }
  }
  return options;
}

py::dict options_dict(const BackendOptions& options) {
  py::dict out;
  for (const auto& [key, value] : options) out[text(key)] = text(value);
  return out;
}

// --- Producer -------------------------------------------------------------------------

struct PyProducer : Lockable {
  std::optional<Producer> producer;
};

Status send(PyProducer& self, const MLOpsMessage& message, bool flush) {
  return locked(self, [&] { return self.producer->send(message, flush); });
}

PyTypeObject* message_class = nullptr;  // mlops.messaging.MLOpsMessage

// send(message, flush=False) as a METH_FASTCALL descriptor: the per-message path.
PyObject* producer_send(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                        PyObject* kwnames) noexcept {
  return guarded([&]() -> PyObject* {
    static const char* const names[] = {"message", "flush"};
    PyObject* values[] = {nullptr, Py_False};
    if (!parse_arguments(args, nargs, kwnames, names, values, "send")) return nullptr;
    PyObject* message = values[0];
    PyObject* flush = values[1];
    if (message == nullptr || PyObject_TypeCheck(message, message_class) == 0) {
      throw py::type_error("send() needs an MLOpsMessage");
    }
    const int flush_flag = PyObject_IsTrue(flush);
    if (flush_flag < 0) throw py::error_already_set();
    auto* producer = cpp_self<PyProducer>(self);
    const auto* msg = cpp_self<MLOpsMessage>(message);
    if (producer == nullptr || msg == nullptr) return nullptr;
    const Status status = send(*producer, *msg, flush_flag == 1);
    if (status != Status::kOk) raise_status(status, "send", true);
    Py_RETURN_NONE;
  });
}

PyMethodDef producer_send_method{
    "send", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&producer_send)),
    METH_FASTCALL | METH_KEYWORDS, R"doc(send(message, flush=False)
Sends message (asynchronously; flush=True also waits until the backend holds it). Returns
None. Raises BackPressureError when a topic stays full, InvalidArgumentError for an invalid
or missing topic, ClosedError after close(), OrchestrationError otherwise.)doc"};

void bind_producer(py::module_& m) {
  py::class_<PyProducer> cls(m, "Producer", R"doc(
Sends MLOpsMessages. Producer(orchestration, topic=None, **options): the message's own
topics win over the producer's `topic` (a str or a list); a list sends once to each.
Options: back_pressure ("block" waits up to send_timeout_ms for room, "return" refuses at
once), send_timeout_ms (alias max_block_ms), flush_timeout_ms; anything else is passed
through to the backend as text. One thread at a time.)doc");
  cls.def(py::init([](py::handle orchestration, py::handle topic, const py::kwargs& kwargs) {
            const auto orch = resolve(orchestration);
            auto options = producer_options(kwargs);
            auto self = std::make_unique<PyProducer>();
            self->producer.emplace(
                value_or_raise(Producer::create(orch, topic_list(topic), std::move(options))));
            return self;
          }),
          py::arg("orchestration") = py::none(), py::arg("topic") = py::none())
      .def(
          "send_raw",
          [](PyProducer& self, py::handle topic, const py::buffer& data) {
            const std::string name(utf8(topic, "topic"));
            const py::buffer_info info = data.request();
            const std::span<const std::uint8_t> bytes(
                static_cast<const std::uint8_t*>(info.ptr),
                static_cast<std::size_t>(info.size * info.itemsize));
            const Status status =
                locked(self, [&] { return self.producer->send_raw(name, bytes); });
            if (status != Status::kOk) raise_status(status, "send_raw", true);
          },
          py::arg("topic"), py::arg("data"),
          "Sends bytes that may not be a message at all, unverified (bridges, tests of what "
          "consumers do with foreign payloads); raises as send().")
      .def(
          "try_send",
          [](PyProducer& self, const MLOpsMessage& message) {
            const Status status = send(self, message, false);
            if (status == Status::kBackPressured || status == Status::kTimeout) return false;
            if (status != Status::kOk) raise_status(status, "send", true);
            return true;
          },
          py::arg("message"),
          "As send(), but returns False instead of raising BackPressureError when a topic is full.")
      .def(
          "flush",
          [](PyProducer& self, py::handle timeout_ms) {
            const auto timeout = optional_ms(timeout_ms, milliseconds(5000), "timeout_ms");
            const Status status = locked(self, [&] { return self.producer->flush(timeout); });
            if (status != Status::kOk) raise_status(status, "flush", false);
          },
          py::arg("timeout_ms") = py::none(),
          "Waits until the backend holds everything sent (default 5000 ms); raises "
          "OrchestrationTimeoutError when it does not in time.")
      .def(
          "close",
          [](PyProducer& self) {
            const Status status = locked(self, [&] { return self.producer->close(); });
            if (status != Status::kOk && status != Status::kClosed) {
              log(LogLevel::kWarning,
                  "producer close: flush ended with " + std::string(to_string(status)));
            }
          },
          "Flushes and closes; idempotent, never raises (a failed flush is logged).")
      .def_property_readonly(
          "topics", [](PyProducer& self) { return self.producer->topics(); },
          "The producer's default topics.")
      .def_property_readonly("closed", [](PyProducer& self) { return self.producer->is_closed(); })
      .def(
          "stats",
          [](PyProducer& self) {
            const auto stats = self.producer->stats();
            py::dict out;
            out["sent"] = stats.sent;
            out["back_pressured"] = stats.back_pressured;
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

// --- Consumer -------------------------------------------------------------------------

struct PyConsumer : Lockable {
  std::optional<Consumer> consumer;
};

py::list receive(PyConsumer& self, py::handle filter, py::handle timeout_ms,
                 py::handle max_records) {
  const auto timeout = optional_ms(timeout_ms, orchestration::kDefaultReceiveTimeout, "timeout");
  const std::size_t max = max_records.is_none() ? 0 : max_records.cast<std::size_t>();
  std::vector<MLOpsMessage> out;
  Status status = Status::kOk;
  if (filter.is_none()) {
    status = locked(self, [&] { return self.consumer->receive(out, {}, timeout, max); });
  } else {
    if (PyCallable_Check(filter.ptr()) == 0) throw py::type_error("filter must be callable");
    // The filter runs Python: it takes the GIL per message. Its first exception rejects
    // the rest of the batch and is raised once receive() is back.
    std::exception_ptr error;
    auto call = [&](const MLOpsMessage& message) -> bool {
      py::gil_scoped_acquire gil;
      if (error) return false;
      try {
        const py::object verdict = filter(message);
        const int truth = PyObject_IsTrue(verdict.ptr());
        if (truth < 0) throw py::error_already_set();
        return truth == 1;
      } catch (...) {
        error = std::current_exception();
        return false;
      }
    };
    status = locked(self, [&] { return self.consumer->receive(out, call, timeout, max); });
    if (error) std::rethrow_exception(error);
  }
  if (status == Status::kClosed || status == Status::kError) raise_status(status, "receive", false);
  py::list messages(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) messages[i] = py::cast(std::move(out[i]));
  return messages;
}

// receive(filter=None, timeout=None, max_records=None) as a METH_FASTCALL descriptor.
PyObject* consumer_receive(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                           PyObject* kwnames) noexcept {
  return guarded([&]() -> PyObject* {
    static const char* const names[] = {"filter", "timeout", "max_records"};
    PyObject* values[] = {Py_None, Py_None, Py_None};
    if (!parse_arguments(args, nargs, kwnames, names, values, "receive")) return nullptr;
    auto* consumer = cpp_self<PyConsumer>(self);
    if (consumer == nullptr) return nullptr;
    return receive(*consumer, values[0], values[1], values[2]).release().ptr();
  });
}

PyMethodDef consumer_receive_method{
    "receive", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&consumer_receive)),
    METH_FASTCALL | METH_KEYWORDS, R"doc(receive(filter=None, timeout=None, max_records=None)
Waits up to `timeout` ms (default 1000) for messages and returns a list (possibly empty)
of those for which filter(msg) is true (all when filter is None), at most max_records.
Raises ClosedError after close(). Alias: recieve.)doc"};

void bind_consumer(py::module_& m) {
  py::class_<PyConsumer> cls(m, "Consumer", R"doc(
Receives MLOpsMessages. Consumer(subscription, orchestration, **options): subscription is a
topic, a list of topics or None. Options: group (alias group_id), auto_offset_reset
("earliest", the default, or "latest"), max_poll_records (alias max_batch),
enable_auto_commit (default True); anything else is passed through to the backend as text.
One thread at a time.)doc");
  cls.def(py::init([](py::handle subscription, py::handle orchestration, const py::kwargs& kwargs) {
            const auto orch = resolve(orchestration);
            auto options = consumer_options(kwargs);
            auto self = std::make_unique<PyConsumer>();
            self->consumer.emplace(value_or_raise(
                Consumer::create(topic_list(subscription), orch, std::move(options))));
            return self;
          }),
          py::arg("subscription") = py::none(), py::arg("orchestration") = py::none())
      .def(
          "subscribe",
          [](PyConsumer& self, py::handle topics, bool override) {
            auto list = topic_list(topics);
            check(
                locked(self, [&] { return self.consumer->subscribe(std::move(list), override); }));
          },
          py::arg("topics"), py::arg("override") = true,
          "Subscribes instead of (override=True) or in addition to the current topics.")
      .def(
          "unsubscribe",
          [](PyConsumer& self) {
            check(locked(self, [&] { return self.consumer->unsubscribe(); }));
          },
          "Leaves every topic.")
      .def(
          "get_subscriptions",
          [](PyConsumer& self) {
            return locked(self, [&] { return self.consumer->subscriptions(); });
          },
          "The topics subscribed to, in the order given.")
      .def(
          "commit",
          [](PyConsumer& self) {
            const Status status = locked(self, [&] { return self.consumer->commit(); });
            if (status != Status::kOk) raise_status(status, "commit", false);
          },
          "Marks everything received so far as processed for the group.")
      .def(
          "close", [](PyConsumer& self) { locked(self, [&] { self.consumer->close(); }); },
          "Leaves the group without committing; idempotent.")
      .def_property_readonly("closed", [](PyConsumer& self) { return self.consumer->is_closed(); })
      .def(
          "stats",
          [](PyConsumer& self) {
            const auto stats = self.consumer->stats();
            py::dict out;
            out["received"] = stats.received;
            out["filtered_out"] = stats.filtered_out;
            out["skipped_corrupt"] = stats.skipped_corrupt;
            out["commits"] = stats.commits;
            return out;
          },
          "Counts so far: received, filtered_out, skipped_corrupt, commits.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](py::object self, py::args) { self.attr("close")(); });
  install(cls, consumer_receive_method);
  cls.attr("recieve") = cls.attr("receive");  // the original's spelling
  cls.attr("__module__") = "mlops.orchestration";
}

// --- Admin ----------------------------------------------------------------------------

struct PyAdmin {
  std::optional<Admin> admin;
};

void bind_admin(py::module_& m) {
  py::class_<PyAdmin> cls(m, "Admin", "Checks a backend and manages its topics. Thread-safe.");
  cls.def(py::init([](py::handle orchestration) {
            auto self = std::make_unique<PyAdmin>();
            self->admin.emplace(value_or_raise(Admin::create(resolve(orchestration))));
            return self;
          }),
          py::arg("orchestration") = py::none())
      .def(
          "validate_connection",
          [](PyAdmin& self, py::handle timeout_ms) {
            const auto timeout = optional_ms(timeout_ms, milliseconds(5000), "timeout_ms");
            Result<void> result;
            {
              py::gil_scoped_release release;
              result = self.admin->validate_connection(timeout);
            }
            drain_logs();
            if (!result) log(LogLevel::kWarning, "validate_connection: " + result.error().message);
            return result.has_value();
          },
          py::arg("timeout_ms") = py::none(),
          "True when the backend answers within timeout_ms (default 5000); False (and a logged "
          "warning saying why) otherwise.")
      .def(
          "topics",
          [](PyAdmin& self) {
            std::optional<Result<std::vector<std::string>>> topics;
            {
              py::gil_scoped_release release;
              topics.emplace(self.admin->topics());
            }
            return value_or_raise(std::move(*topics));
          },
          "The backend's topics, sorted.")
      .def(
          "create_topic",
          [](PyAdmin& self, py::handle name, std::size_t max_messages, std::size_t max_bytes,
             const py::kwargs& kwargs) {
            orchestration::TopicOptions options{
                .max_messages = max_messages, .max_bytes = max_bytes, .backend = {}};
            for (const auto& [key, value] : kwargs)
              options.backend.insert_or_assign(py::str(key), option_text(value));
            const std::string topic(utf8(name, "name"));
            Result<void> result;
            {
              py::gil_scoped_release release;
              result = self.admin->create_topic(topic, options);
            }
            check(result);
          },
          py::arg("name"), py::arg("max_messages") = 0, py::arg("max_bytes") = 0,
          "Creates a topic (an existing one is left as it is).")
      .def(
          "close", [](PyAdmin& self) { self.admin->close(); }, "Releases the client; idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](py::object self, py::args) { self.attr("close")(); });
  cls.attr("__module__") = "mlops.orchestration";
}

// --- Orchestration --------------------------------------------------------------------

void bind_orchestration_types(py::module_& m) {
  py::class_<Orchestration> orch(m, "Orchestration", R"doc(
Which backend moves the messages, and where: Orchestration("inproc://NAME"),
Orchestration("mmap:///DIR"), Orchestration("none:"), or Orchestration() for
$MLOPS_ORCHESTRATION (default inproc://default). Copies share the opened backend.)doc");
  orch.def(py::init([](py::handle uri) { return resolve(uri); }), py::arg("uri") = py::none())
      .def_static(
          "from_uri",
          [](py::handle uri) { return value_or_raise(Orchestration::from_uri(utf8(uri, "uri"))); },
          py::arg("uri"))
      .def_static("detect", [] { return value_or_raise(Orchestration::detect()); })
      .def_property_readonly("orchestrator", &Orchestration::orchestrator,
                             "\"none\", \"inproc\", \"mmap\", ...")
      .def_property_readonly("connection", &Orchestration::connection, "Where the backend is.")
      .def_property_readonly("options",
                             [](const Orchestration& self) { return options_dict(self.options()); })
      .def_property_readonly("uri", &Orchestration::uri)
      .def("__repr__",
           [](const Orchestration& self) { return "Orchestration('" + self.uri() + "')"; });
  orch.attr("__module__") = "mlops.orchestration";

  py::class_<OrchestrationBuilder> builder(m, "OrchestrationBuilder", R"doc(
OrchestrationBuilder().with_orchestrator("inproc").with_connection("demo").build(); a missing
orchestrator is detected, a missing connection is the backend's default.)doc");
  const auto ref = py::return_value_policy::reference;
  builder.def(py::init<>())
      .def(
          "with_orchestrator",
          [](OrchestrationBuilder& self, py::handle name) -> OrchestrationBuilder& {
            return self.with_orchestrator(utf8(name, "orchestrator"));
          },
          py::arg("orchestrator"), ref)
      .def(
          "with_connection",
          [](OrchestrationBuilder& self, py::handle connection) -> OrchestrationBuilder& {
            return self.with_connection(utf8(connection, "connection"));
          },
          py::arg("connection"), ref)
      .def(
          "with_option",
          [](OrchestrationBuilder& self, py::handle key,
             py::handle value) -> OrchestrationBuilder& {
            return self.with_option(utf8(key, "key"), option_text(value));
          },
          py::arg("key"), py::arg("value"), ref)
      .def("build", [](const OrchestrationBuilder& self) { return value_or_raise(self.build()); });
  builder.attr("__module__") = "mlops.orchestration";
}

}  // namespace

void bind_orchestration(py::module_& m) {
  orchestration_error = make_exception(m, "OrchestrationError", PyExc_RuntimeError,
                                       "A backend or orchestration call failed; `code` (setup) or "
                                       "`status` (send, receive, ...) names how.");
  const auto pair = [](PyObject* a, PyObject* b) {
    return py::make_tuple(py::handle(a), py::handle(b));
  };
  invalid_argument_error =
      make_exception(m, "InvalidArgumentError", pair(orchestration_error, PyExc_ValueError).ptr(),
                     "A malformed URI, topic name or option.");
  back_pressure_error = make_exception(m, "BackPressureError", orchestration_error,
                                       "A topic stayed full: the message was not sent.");
  timeout_error = make_exception(m, "OrchestrationTimeoutError",
                                 pair(orchestration_error, PyExc_TimeoutError).ptr(),
                                 "A wait reached its deadline.");
  closed_error =
      make_exception(m, "ClosedError", orchestration_error, "The producer or consumer was closed.");
  bind_orchestration_types(m);
  bind_producer(m);
  bind_consumer(m);
  bind_admin(m);
}

}  // namespace mlops::python
