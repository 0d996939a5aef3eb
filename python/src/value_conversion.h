#pragma once
/// \file Python objects <-> additional-argument values (Value, ValueView).

#include "binding.h"
#include "mlops/messaging/value.h"
#include "mlops/messaging/value_view.h"

namespace mlops::python {

/// Calls `visit(key, value)` for every entry of the dict `dict`, each held by a strong
/// reference while visited: converting a value may run Python code (__fspath__, __getattr__)
/// that changes the dict and drops its last references to them. A dict that changes size
/// meanwhile raises RuntimeError, as iterating over it in Python would.
template <typename F>
void for_each_entry(py::handle dict, const char* what, F&& visit) {
  const Py_ssize_t size = PyDict_GET_SIZE(dict.ptr());
  PyObject *key = nullptr, *value = nullptr;
  Py_ssize_t position = 0;
  while (PyDict_Next(dict.ptr(), &position, &key, &value)) {
    const auto held_key = py::reinterpret_borrow<py::object>(key);
    const auto held_value = py::reinterpret_borrow<py::object>(value);
    visit(held_key, held_value);
    if (PyDict_GET_SIZE(dict.ptr()) != size) {
      PyErr_Format(PyExc_RuntimeError, "%s changed size while it was read", what);
      throw py::error_already_set();
    }
  }
}

/// A JSON-like Python value as a Value: None, bool, int (64-bit), float, str, bytes-like,
/// os.PathLike (as its text), list/tuple, dict with str keys. Anything else: TypeError;
/// an int outside 64 bits: OverflowError; nesting past the message's limit: ValueError.
messaging::Value to_value(py::handle object);

/// A value read in place, as a new Python object (dict, list, str, int, float, ...); map
/// keys come from name_text's cache.
py::object from_view(const messaging::ValueView& view);

/// `made` (a new reference from a CPython call) as an object; throws the Python error it set
/// when it is null.
py::object steal(PyObject* made);

/// dict[key] = value for a dict just made (PyDict_SetItem, no generic dispatch).
void set_item(const py::object& dict, const py::object& key, const py::object& value);

}  // namespace mlops::python
