// mlops.orchestration: Orchestration, OrchestrationBuilder, Admin and the module itself
// (Producer and Consumer have files of their own). Every call that can wait releases the GIL.
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "blocking_call.h"
#include "mlops/log.h"
#include "mlops/orchestration/admin.h"
#include "orchestration_arguments.h"
#include "orchestration_errors.h"

namespace mlops::python {
namespace {

using orchestration::Admin;
using orchestration::Orchestration;
using orchestration::OrchestrationBuilder;
using std::chrono::milliseconds;

struct PyAdmin {
  std::optional<Admin> admin;

  PyAdmin() = default;
  PyAdmin(const PyAdmin&) = delete;
  PyAdmin& operator=(const PyAdmin&) = delete;
  // Closing a broker's client may wait for its threads: not with the GIL held.
  ~PyAdmin() {
    if (!admin) return;
    in_destructor_without_gil([this] { admin.reset(); });
  }
};

}  // namespace
}  // namespace mlops::python

MLOPS_CHECKED_CASTER(mlops::python::PyAdmin)

namespace mlops::python {
namespace {

py::dict options_dict(const orchestration::BackendOptions& options) {
  py::dict out;
  for (const auto& [key, value] : options) out[text(key)] = text(value);
  return out;
}

// True when the backend answers within `timeout`. Asked in slices, so that Ctrl-C is seen: a
// slice that failed after trying for its whole time is asked again until the timeout (a
// client asked once keeps trying to reach its brokers until then); one that failed at once
// is the answer.
bool validate_connection(PyAdmin& self, py::handle timeout_ms) {
  const auto timeout = timeout_ms.is_none() ? milliseconds(5000) : to_ms(timeout_ms, "timeout_ms");
  SlicedWait wait(timeout);
  for (;;) {
    const auto next = wait.next();
    const auto started = orchestration::detail::Clock::now();
    auto result = without_gil([&] { return self.admin->validate_connection(next); });
    drain_logs();
    if (result) return true;
    const bool tried_its_slice = orchestration::detail::Clock::now() - started >= next / 2;
    if (!tried_its_slice || wait.expired()) {
      log(LogLevel::kWarning, "validate_connection: " + result.error().message);
      return false;
    }
    check_signals();
  }
}

void bind_admin(py::module_& m) {
  py::class_<PyAdmin> cls(m, "Admin", "Checks a backend and manages its topics. Thread-safe.");
  cls.def(py::init([](py::handle orchestration) {
            auto self = std::make_unique<PyAdmin>();
            self->admin.emplace(value_or_raise(
                Admin::create(resolve_orchestration(orchestration, "orchestration"))));
            return self;
          }),
          py::arg("orchestration") = py::none())
      .def("validate_connection", &validate_connection, py::arg("timeout_ms") = py::none(),
           "True when the backend answers within timeout_ms (default 5000); False (and a "
           "logged warning saying why) otherwise.")
      .def(
          "topics",
          [](PyAdmin& self) {
            auto topics = without_gil([&] { return self.admin->topics(); });
            return value_or_raise(std::move(topics));
          },
          "The backend's topics, sorted.")
      .def(
          "create_topic",
          [](PyAdmin& self, py::handle name, py::handle max_messages, py::handle max_bytes,
             const py::kwargs& kwargs) {
            orchestration::TopicOptions options{};
            options.max_messages = to_count(max_messages, "max_messages", 0);
            options.max_bytes = to_count(max_bytes, "max_bytes", 0);
            for (const auto& [key, value] : kwargs)
              options.backend.insert_or_assign(py::str(key), option_text(value));
            const std::string topic(utf8(name, "name"));
            check(without_gil([&] { return self.admin->create_topic(topic, options); }));
          },
          py::arg("name"), py::arg("max_messages") = 0, py::arg("max_bytes") = 0,
          "Creates a topic (an existing one is left as it is); 0 keeps the backend's limit.")
      .def(
          "lag",
          [](PyAdmin& self, py::handle topic, py::handle groups) {
            const std::string name(topic.is_none() ? std::string_view() : utf8(topic, "topic"));
            std::optional<std::vector<std::string>> names;
            if (!groups.is_none()) {
              if (py::isinstance<py::str>(groups))
                throw py::type_error("groups must be a list of names, not a str");
              names.emplace();
              for (const auto& group : groups) names->emplace_back(utf8(group, "groups"));
            }
            auto lags = value_or_raise(without_gil([&] { return self.admin->lag(name, names); }));
            py::list out;
            for (const auto& lag : lags) {
              py::list group_list;
              for (const auto& group : lag.groups) {
                py::dict entry;
                entry["group"] = group.group;
                entry["committed"] = group.committed ? py::object(py::int_(*group.committed))
                                                     : py::object(py::none());
                entry["lag"] = group.lag;
                group_list.append(entry);
              }
              py::dict entry;
              entry["topic"] = lag.topic;
              entry["start"] = lag.start;
              entry["end"] = lag.end;
              entry["messages"] = lag.messages;
              entry["bytes"] =
                  lag.bytes ? py::object(py::int_(*lag.bytes)) : py::object(py::none());
              entry["groups"] = group_list;
              out.append(entry);
            }
            return out;
          },
          py::arg("topic") = py::none(), py::arg("groups") = py::none(),
          "Per topic (or only `topic`): start, end, messages, bytes (None where unknown) and "
          "groups: each group's committed position (None if never committed) and lag, the "
          "messages it has not committed. groups: None, every group the backend lists; [], none; "
          "else those named (kafka: name them where the brokers cannot list groups). Reads "
          "only; raises on backends without positions.")
      .def(
          "close", [](PyAdmin& self) { without_gil([&] { self.admin->close(); }); },
          "Releases the client; idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](py::object self, py::args) { self.attr("close")(); });
  cls.attr("__module__") = "mlops.orchestration";
}

void bind_orchestration_types(py::module_& m) {
  py::class_<Orchestration> orch(m, "Orchestration", R"doc(
Which backend moves the messages, and where: Orchestration("inproc://NAME"),
Orchestration("mmap:///DIR"), Orchestration("none:"), or Orchestration() for
$MLOPS_ORCHESTRATION (default mmap://./.mlops). Opening an mmap orchestration creates its
directory (and parents) at once, so a path that cannot be used fails here, not at the first
send. Copies (copy.copy, copy.deepcopy) share the opened backend.)doc");
  orch.def(py::init([](py::handle uri) { return resolve_orchestration(uri, "uri"); }),
           py::arg("uri") = py::none())
      .def_static(
          "from_uri",
          [](py::handle uri) { return value_or_raise(Orchestration::from_uri(utf8(uri, "uri"))); },
          py::arg("uri"), "Opens the backend a URI names (see the class).")
      .def_static(
          "detect", [] { return value_or_raise(Orchestration::detect()); },
          "$MLOPS_ORCHESTRATION, else mmap://./.mlops.")
      .def_property_readonly("orchestrator", &Orchestration::orchestrator,
                             "\"none\", \"inproc\", \"mmap\", ...")
      .def_property_readonly("connection", &Orchestration::connection, "Where the backend is.")
      .def_property_readonly("options",
                             [](const Orchestration& self) { return options_dict(self.options()); })
      .def_property_readonly("uri", &Orchestration::uri)
      .def("__copy__", [](const Orchestration& self) { return self; })
      .def("__deepcopy__", [](const Orchestration& self, py::handle /*memo*/) { return self; })
      .def("__repr__", [](const Orchestration& self) {
        return "Orchestration('" + self.redacted_uri() + "')";
      });
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
  make_orchestration_errors(m);
  bind_orchestration_types(m);
  bind_producer(m);
  bind_backoff(m);
  bind_consumer(m);
  bind_admin(m);
}

}  // namespace mlops::python
