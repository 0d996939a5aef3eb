// mlops.orchestration.Consumer. receive() waits with the GIL released in slices of kSlice,
// between which Ctrl-C and close() from another thread are seen. A Python filter runs after
// each slice, with the GIL and without the consumer's lock: the core's filter would have to
// take the GIL inside a noexcept call, where a thread ended at interpreter exit cannot
// unwind, and once per message instead of once per batch.
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "blocking_call.h"
#include "fast_call.h"
#include "mlops/orchestration/consumer.h"
#include "orchestration_arguments.h"
#include "orchestration_errors.h"

namespace mlops::python {
namespace {

using messaging::MLOpsMessage;
using orchestration::Consumer;
using orchestration::Status;

struct PyConsumer : Lockable {
  std::optional<Consumer> consumer;
  // Messages the Python filter rejected: the core counted them as received.
  std::atomic<std::uint64_t> rejected{0};

  PyConsumer() = default;
  PyConsumer(const PyConsumer&) = delete;
  PyConsumer& operator=(const PyConsumer&) = delete;
  // Dropped without close(): closed with the GIL released (a broker may take its time).
  ~PyConsumer() {
    if (!consumer || closing.load()) return;
    in_destructor_without_gil([this] {
      const std::lock_guard lock(mutex);
      consumer->close();
    });
  }
};

}  // namespace
}  // namespace mlops::python

MLOPS_CHECKED_CASTER(mlops::python::PyConsumer)

namespace mlops::python {
namespace {

// A week: longer delays are almost surely a unit mistake (seconds given as ms is fine).
constexpr std::size_t kMaxDelayMs = std::size_t{7} * 24 * 3600 * 1000;

[[noreturn]] void raise_closed(const char* what) { raise_status(Status::kClosed, what, false); }

// seek()'s position from time= ("earliest", "latest", a datetime) or after= (an id's text,
// or a message). Exactly one of the two.
orchestration::Position seek_position(py::handle time, py::handle after) {
  using orchestration::Position;
  if (time.is_none() == after.is_none()) {
    throw py::type_error(
        "seek() takes time= ('earliest', 'latest' or a datetime) or after= (a "
        "message id or a message), one of the two");
  }
  if (!after.is_none()) {
    if (py::isinstance<MLOpsMessage>(after)) {
      const auto id = after.cast<const MLOpsMessage&>().id();
      if (!id) throw py::value_error("seek(after=...): the message has no id");
      return Position::after(*id);
    }
    if (!py::isinstance<py::str>(after)) {
      throw py::type_error("seek(after=...) takes a message id (str, as msg.id) or a message");
    }
    const auto text = after.cast<std::string>();
    const auto id = messaging::MessageId::from_string(text);
    if (!id)
      throw py::value_error("seek(after=...): '" + text + "' is not a message id (UUID text)");
    return Position::after(*id);
  }
  if (py::isinstance<py::str>(time)) {
    const auto text = time.cast<std::string>();
    if (text == "earliest") return Position::earliest();
    if (text == "latest") return Position::latest();
    throw py::value_error("seek(time=...): '" + text +
                          "' is not 'earliest', 'latest' or a datetime");
  }
  const py::object datetime = py::module_::import("datetime").attr("datetime");
  if (!py::isinstance(time, datetime)) {
    throw py::type_error("seek(time=...) takes 'earliest', 'latest' or a datetime.datetime");
  }
  // Seconds as a double keep microseconds exact for any year a datetime can hold; beyond
  // int64 nanoseconds (years past 2262 or before 1677) the time is clamped, and the core
  // refuses the future one.
  const double seconds = time.attr("timestamp")().cast<double>();
  const double micros = std::round(seconds * 1e6);
  constexpr double kLimitMicros = 9.2e15;  // int64 ns / 1000, a little inside
  const std::int64_t ns = micros >= kLimitMicros    ? INT64_MAX
                          : micros <= -kLimitMicros ? INT64_MIN
                                                    : static_cast<std::int64_t>(micros) * 1000;
  return Position::at_time(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns))));
}

// The messages of one batch that pass `filter` (all when None), as Python objects. The
// filter's first exception rejects the whole batch (it counts as processed at the next
// commit) and is raised.
py::list filtered(PyConsumer& self, std::vector<MLOpsMessage>& batch, py::handle filter) {
  py::list out;
  std::size_t kept = 0;
  try {
    for (auto& message : batch) {
      auto object = py::reinterpret_steal<py::object>(wrap_new(std::move(message)));
      if (!object) throw py::error_already_set();
      if (!filter.is_none()) {
        const int truth = PyObject_IsTrue(filter(object).ptr());
        if (truth < 0) throw py::error_already_set();
        if (truth == 0) continue;
      }
      out.append(std::move(object));
      ++kept;
    }
  } catch (...) {
    self.rejected.fetch_add(batch.size(), std::memory_order_relaxed);
    batch.clear();
    throw;
  }
  self.rejected.fetch_add(batch.size() - kept, std::memory_order_relaxed);
  batch.clear();
  return out;
}

py::list receive(PyConsumer& self, py::handle filter, py::handle timeout_ms,
                 py::handle max_records) {
  const auto timeout =
      timeout_ms.is_none() ? orchestration::kDefaultReceiveTimeout : to_ms(timeout_ms, "timeout");
  const std::size_t max =
      max_records.is_none() ? 0 : to_count(max_records, "max_records", 1, kMaxBatch);
  if (!filter.is_none() && PyCallable_Check(filter.ptr()) == 0) {
    throw py::type_error("filter must be callable or None, not " +
                         std::string(Py_TYPE(filter.ptr())->tp_name));
  }
  SlicedWait wait(timeout);
  std::vector<MLOpsMessage> batch;
  for (;;) {
    const Status status = locked(self, [&] {
      if (self.closing.load()) return Status::kClosed;
      return self.consumer->receive(batch, {}, wait.next(), max);
    });
    if (status == Status::kClosed || status == Status::kError)
      raise_status(status, "receive", false);
    const bool got_any = !batch.empty();
    if (got_any) {
      py::list messages = filtered(self, batch, filter);
      if (!messages.empty()) return messages;
    }
    // kOk with nothing: a backend that never waits (none); kNoTopic: nothing subscribed.
    if (!got_any && status != Status::kTimeout) return py::list();
    if (wait.expired()) return py::list();
    check_signals();
    if (self.closing.load()) raise_closed("receive");
  }
}

// receive(filter=None, timeout=None, max_records=None) as a METH_FASTCALL descriptor.
PyObject* consumer_receive(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                           PyObject* kwnames) {
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
Waits up to `timeout` ms (None: 1000; float('inf'): no limit) for messages and returns a list
(possibly empty) of those for which filter(msg) is true (all when filter is None), at most
max_records. Raises ClosedError after close(), also when another thread closes the consumer
while it waits; Ctrl-C ends the wait with KeyboardInterrupt. Alias: recieve.)doc"};

std::unique_ptr<PyConsumer> make_consumer(py::handle subscription, py::handle orchestration,
                                          const py::kwargs& kwargs) {
  const auto orch = resolve_orchestration(orchestration, "orchestration");
  auto topics = topic_list(subscription, "subscription");
  auto options = consumer_options(kwargs);
  auto self = std::make_unique<PyConsumer>();
  self->consumer.emplace(
      value_or_raise(Consumer::create(std::move(topics), orch, std::move(options))));
  return self;
}

void subscribe(PyConsumer& self, py::handle topics, bool override) {
  auto list = topic_list(topics, "topics");
  if (self.closing.load()) raise_closed("subscribe");
  check(locked(self, [&] { return self.consumer->subscribe(std::move(list), override); }));
}

void close_consumer(PyConsumer& self) {
  if (self.closing.exchange(true)) return;  // a receive() waiting in another thread stops now
  locked(self, [&] { self.consumer->close(); });
}

}  // namespace

void bind_consumer(py::module_& m) {
  py::class_<PyConsumer> cls(m, "Consumer", R"doc(
Receives MLOpsMessages. Consumer(subscription, orchestration, **options): subscription is a
topic, a list of topics or None. Options: group (alias group_id), auto_offset_reset
("earliest", the default, or "latest"), max_poll_records (alias max_batch),
enable_auto_commit (default True); anything else is passed through to the backend as text.
Threads may share a consumer (calls take turns); close() from another thread ends a waiting
receive() within one slice (50 ms).)doc");
  cls.def(py::init(&make_consumer), py::arg("subscription") = py::none(),
          py::arg("orchestration") = py::none())
      .def("subscribe", &subscribe, py::arg("topics"), py::arg("override") = true,
           "Subscribes instead of (override=True) or in addition to the current topics; "
           "ClosedError after close().")
      .def(
          "unsubscribe",
          [](PyConsumer& self) {
            if (self.closing.load()) raise_closed("unsubscribe");
            check(locked(self, [&] { return self.consumer->unsubscribe(); }));
          },
          "Leaves every topic; ClosedError after close().")
      .def(
          "get_subscriptions",
          [](PyConsumer& self) {
            return locked(self, [&] { return self.consumer->subscriptions(); });
          },
          "The topics subscribed to, in the order given.")
      .def(
          "commit",
          [](PyConsumer& self) {
            if (self.closing.load()) raise_closed("commit");
            const Status status = locked(self, [&] { return self.consumer->commit(); });
            if (status != Status::kOk) raise_status(status, "commit", false);
          },
          "Marks everything received so far as processed for the group.")
      .def(
          "retry",
          [](PyConsumer& self, const MLOpsMessage& message, py::handle delay_ms,
             const std::string& reason) {
            // A Backoff gives the delay for the message's retries, as C++'s overload does.
            const auto delay =
                py::isinstance<orchestration::Backoff>(delay_ms)
                    ? std::min(delay_ms.cast<const orchestration::Backoff&>().delay_for(
                                   message.retries()),
                               std::chrono::milliseconds(kMaxDelayMs))
                    : std::chrono::milliseconds(static_cast<std::int64_t>(
                          to_count(delay_ms, "delay_ms", 0, kMaxDelayMs)));
            if (self.closing.load()) raise_closed("retry");
            const Status status =
                locked(self, [&] { return self.consumer->retry(message, delay, reason); });
            if (status != Status::kOk) raise_status(status, "retry", true);
          },
          py::arg("message"), py::arg("delay_ms"), py::arg("reason") = "",
          "Schedules a copy with retries + 1 to reach the group again after delay_ms (an int, or "
          "a Backoff, which gives the delay for the message's retries; after max_retries: to "
          "<topic>.dlq instead); the message is processed at the next commit().")
      .def(
          "seek",
          [](PyConsumer& self, const std::string& topic, py::handle time, py::handle after) {
            const auto position = seek_position(time, after);
            if (self.closing.load()) raise_closed("seek");
            check(locked(self, [&] { return self.consumer->seek(topic, position); }));
          },
          py::arg("topic"), py::arg("time") = py::none(), py::kw_only(),
          py::arg("after") = py::none(),
          "Moves the group in a subscribed topic, as a commit would: time='earliest' (the oldest "
          "message held), 'latest' (only what comes next) or a datetime (the first message "
          "stamped at or after it; naive ones are local time); or after=a message id (text, as "
          "msg.id) or a message: the messages after it. InvalidArgumentError for a topic not "
          "subscribed or a time in the future.")
      .def(
          "dead_letter",
          [](PyConsumer& self, const MLOpsMessage& message, const std::string& reason) {
            if (self.closing.load()) raise_closed("dead_letter");
            const Status status =
                locked(self, [&] { return self.consumer->dead_letter(message, reason); });
            if (status != Status::kOk) raise_status(status, "dead_letter", true);
          },
          py::arg("message"), py::arg("reason"),
          "Sends the message to <topic>.dlq with mlops.dlq_reason, mlops.dlq_topic and "
          "mlops.dlq_time_ns; it is processed at the next commit().")
      .def("close", &close_consumer, "Leaves the group without committing; idempotent.")
      .def_property_readonly("closed", [](PyConsumer& self) { return self.closing.load(); })
      .def(
          "stats",
          [](PyConsumer& self) {
            const auto stats = self.consumer->stats();
            const auto rejected = self.rejected.load(std::memory_order_relaxed);
            py::dict out;
            out["received"] = stats.received - std::min(rejected, stats.received);
            out["filtered_out"] = stats.filtered_out + rejected;
            out["skipped_corrupt"] = stats.skipped_corrupt;
            out["commits"] = stats.commits;
            out["legacy"] = stats.legacy;
            out["skipped_legacy"] = stats.skipped_legacy;
            out["retried"] = stats.retried;
            out["dead_lettered"] = stats.dead_lettered;
            out["replay_skipped"] = stats.replay_skipped;
            return out;
          },
          "Counts so far: received, filtered_out, skipped_corrupt, commits, legacy (payloads in "
          "the original's JSON read as messages), skipped_legacy (ones that were not valid), "
          "retried, dead_lettered, replay_skipped (messages a seek's replay passed over).")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](py::object self, py::args) { self.attr("close")(); });
  install(cls, consumer_receive_method);
  cls.attr("recieve") = cls.attr("receive");  // the original's spelling
  cls.attr("__module__") = "mlops.orchestration";
}

}  // namespace mlops::python
