#pragma once
/// \file What the binding's source files share: each one binds one area into its submodule.

#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "mlops/result.h"

namespace mlops::python {

namespace py = pybind11;

/// Binds mlops::messaging into `m` (the module mlops._mlops.messaging).
void bind_messaging(py::module_& m);
/// Binds mlops::orchestration into `m` (the module mlops._mlops.orchestration).
void bind_orchestration(py::module_& m);

/// Routes the library's log lines to Python's `logging` (logger "mlops").
void install_log_bridge(py::module_& m);
/// Hands queued log lines (logged while the GIL was released) to `logging`. Needs the GIL.
void drain_logs();
/// Forgets the last warning or error this thread logged.
void clear_last_log() noexcept;
/// The last warning or error this thread logged since clear_last_log(), or "".
std::string last_log();

/// A new Python exception class `module.name` with `bases` (a class or a tuple), stored in
/// `m` and kept alive for the life of the process.
PyObject* make_exception(py::module_& m, const char* name, PyObject* bases, const char* doc);

/// Raises `type(message)` with attributes `code` and `status` (None when empty).
[[noreturn]] void raise_error(PyObject* type, const std::string& message, std::string_view code,
                              std::string_view status);

/// Text from UTF-8 bytes; foreign non-UTF-8 bytes survive as surrogate escapes.
inline py::str text(std::string_view value) {
  PyObject* out =
      PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "surrogateescape");
  if (out == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(out);
}

/// The UTF-8 bytes of a str (borrowed from the str, valid while it lives), else TypeError.
inline std::string_view utf8(py::handle value, const char* what) {
  if (!PyUnicode_Check(value.ptr())) {
    throw py::type_error(std::string(what) + " must be str, not " +
                         std::string(Py_TYPE(value.ptr())->tp_name));
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
  if (data == nullptr) throw py::error_already_set();
  return {data, static_cast<std::size_t>(size)};
}

}  // namespace mlops::python
