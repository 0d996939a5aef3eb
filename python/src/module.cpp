// The extension module mlops._mlops: one submodule per library area, re-exported by the
// pure-Python packages mlops.messaging and mlops.orchestration.
#include <mlops/version.h>

#include <string>

#include "binding.h"
#include "blocking_call.h"

namespace mlops::python {

PyObject* make_exception(py::module_& m, const char* name, PyObject* bases, const char* doc) {
  // Named after the public module ("mlops.messaging"), not the extension's submodule.
  std::string module = py::str(m.attr("__name__"));
  module = "mlops" + module.substr(module.rfind('.'));
  const std::string qualified = module + "." + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (type == nullptr) throw py::error_already_set();
  // One reference stays with the module, one is ours for the life of the process.
  m.add_object(name, py::reinterpret_borrow<py::object>(type));
  return type;
}

void raise_error(PyObject* type, const std::string& message, std::string_view code,
                 std::string_view status) {
  py::object error = py::reinterpret_borrow<py::object>(type)(message);
  error.attr("code") =
      code.empty() ? py::object(py::none()) : py::object(py::str(std::string(code)));
  error.attr("status") =
      status.empty() ? py::object(py::none()) : py::object(py::str(std::string(status)));
  PyErr_SetObject(type, error.ptr());
  throw py::error_already_set();
}

}  // namespace mlops::python

PYBIND11_MODULE(_mlops, m) {
  namespace py = pybind11;
  m.doc() = "The C++ core of the mlops package; import mlops.messaging and mlops.orchestration.";
  m.attr("__version__") = std::string(mlops::version());
  m.attr("schema_version") = mlops::schema_version();
  auto messaging = m.def_submodule("messaging", "MLOpsMessage, MessageBuilder and the enums.");
  auto orchestration =
      m.def_submodule("orchestration", "Producer, Consumer, Admin and Orchestration.");
  mlops::python::install_log_bridge(m);
  mlops::python::install_call_guards(m);
  mlops::python::bind_messaging(messaging);
  mlops::python::bind_orchestration(orchestration);
}
