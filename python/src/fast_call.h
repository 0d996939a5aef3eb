#pragma once
/// \file Raw CPython descriptors for the hot paths (property reads, builder calls, send).
/// pybind11's dispatcher costs a few hundred ns per call (it allocates its argument vectors);
/// a getset or METH_FASTCALL descriptor installed on the same pybind11 class costs tens.

#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <typeinfo>
#include <utility>

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include "binding.h"

namespace mlops::python {

/// The C++ object inside a pybind11 instance of a registered class (null if uninitialised,
/// with TypeError set). CPython has checked the type of `self` before calling a descriptor.
/// A class with one C++ type and the default holder has pybind11's simple layout, where the
/// value pointer is the instance's first word: read inline (a property read calls this).
/// Any other layout (a Python class deriving from two pybind11 classes) holds one value per
/// pybind11 base: T's is looked up by type, never taken as the first one.
template <typename T>
T* cpp_self(PyObject* self) noexcept {
  auto* instance = reinterpret_cast<py::detail::instance*>(self);
  void* value = nullptr;
  if (instance->simple_layout) {
    value = instance->simple_value_holder[0];
  } else {
    static py::detail::type_info* const type = py::detail::get_type_info(typeid(T));
    const auto holder = instance->get_value_and_holder(type, /*throw_if_missing=*/false);
    if (holder.inst != nullptr) value = holder.value_ptr();  // (not found: a null inst)
  }
  if (value == nullptr) {
    PyErr_Format(PyExc_TypeError,
                 "%s object is not initialised (made with __new__ without __init__)",
                 Py_TYPE(self)->tp_name);
  }
  return static_cast<T*>(value);
}

/// Runs `body`, turning C++ exceptions into the Python error pybind11 would have raised.
/// Not noexcept, and lets abi::__forced_unwind pass: a thread that Python ends at exit while
/// it waits in a call unwinds through here (see blocking_call.h).
template <typename F>
PyObject* guarded(F&& body) {
  try {
    return body();
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    throw;
#endif
  } catch (py::error_already_set& error) {
    error.restore();
  } catch (py::builtin_exception& error) {
    error.set_error();
  } catch (const std::invalid_argument& error) {
    PyErr_SetString(PyExc_ValueError, error.what());
  } catch (const std::length_error& error) {
    PyErr_SetString(PyExc_ValueError, error.what());
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
  return nullptr;
}

/// The single argument of a METH_FASTCALL|METH_KEYWORDS call, given by position or as
/// `name=`; null with TypeError set otherwise.
inline PyObject* single_argument(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                                 const char* name, const char* function) noexcept {
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  if (nargs + nkw != 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes exactly one argument (%zd given)", function,
                 nargs + nkw);
    return nullptr;
  }
  if (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), name) != 0) {
    PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", function,
                 PyTuple_GET_ITEM(kwnames, 0));
    return nullptr;
  }
  return args[0];
}

/// Fills `out` (preset to defaults) from a METH_FASTCALL|METH_KEYWORDS call whose parameters
/// are `names`, in order; false with TypeError set on too many, unknown or repeated
/// arguments.
template <std::size_t N>
bool parse_arguments(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                     const char* const (&names)[N], PyObject* (&out)[N],
                     const char* function) noexcept {
  if (nargs > static_cast<Py_ssize_t>(N)) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments", function,
                 static_cast<Py_ssize_t>(N));
    return false;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    std::size_t index = N;
    for (std::size_t i = 0; i < N; ++i) {
      if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0) index = i;
    }
    if (index == N) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", function, name);
      return false;
    }
    if (static_cast<Py_ssize_t>(index) < nargs) {  // given by position as well
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function,
                   names[index]);
      return false;
    }
    out[index] = args[nargs + k];
  }
  return true;
}

/// Makes the pybind11 instance `object` of class T (`type`) own `value` (from new), as
/// pybind11's init_instance would, except that the instance is left out of pybind11's table
/// of live instances (a global hash map: an insert here and an erase when it dies, with a
/// hash of the type's name to find the type, about 400 instructions an object between them).
/// That table only serves casts of a C++ pointer or reference back to its Python object:
/// use this only for a T that no binding returns by pointer or reference. pybind11 frees an
/// unlisted instance as any other (clear_instance deregisters only what was registered).
template <typename T>
void adopt(py::detail::type_info* type, PyObject* object, T* value) {
  auto* instance = reinterpret_cast<py::detail::instance*>(object);
  auto holder = instance->get_value_and_holder(type);
  holder.value_ptr() = value;
  instance->owned = true;
  if (type->default_holder) {  // std::unique_ptr<T>, constructed as init_instance would
    new (std::addressof(holder.holder<std::unique_ptr<T>>())) std::unique_ptr<T>(value);
    holder.set_holder_constructed();
  } else {
    type->init_instance(instance, nullptr);
  }
}

/// A new Python instance of the registered class T owning `value` (moved in), or null with
/// the error set. What py::cast(std::move(value)) does, less its per-call type lookup (a hash
/// of the type's name) and its search for an existing instance at the address of a value
/// that was only just made, and unlisted (see adopt). One per message on the build and
/// receive paths.
///
/// pybind11's make_new_instance looks the type's bases up in a hash map on every call to
/// choose the layout; the choice is made once here and an instance of the simple layout is
/// set up directly (tp_alloc has zeroed it: no value, no holder, not registered).
template <typename T>
PyObject* wrap_new(T value) {
  static py::detail::type_info* const type = py::detail::get_type_info(typeid(T));
  static const bool simple_layout =
      py::detail::all_type_info(type->type).size() == 1 &&
      type->holder_size_in_ptrs <= py::detail::instance_simple_holder_in_ptrs();
  PyObject* made = simple_layout ? type->type->tp_alloc(type->type, 0)
                                 : py::detail::make_new_instance(type->type);
  auto object = py::reinterpret_steal<py::object>(made);
  if (!object) return nullptr;
  if (simple_layout) reinterpret_cast<py::detail::instance*>(made)->simple_layout = true;
  adopt(type, made, new T(std::move(value)));
  return object.release().ptr();
}

/// Installs `def` (which must live for the process) on the pybind11 class `cls`.
inline void install(py::handle cls, PyGetSetDef& def) {
  auto descriptor = py::reinterpret_steal<py::object>(
      PyDescr_NewGetSet(reinterpret_cast<PyTypeObject*>(cls.ptr()), &def));
  if (!descriptor) throw py::error_already_set();
  py::setattr(cls, def.name, descriptor);
}

/// Installs the method `def` (which must live for the process) on the pybind11 class `cls`.
inline void install(py::handle cls, PyMethodDef& def) {
  auto descriptor = py::reinterpret_steal<py::object>(
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &def));
  if (!descriptor) throw py::error_already_set();
  py::setattr(cls, def.ml_name, descriptor);
}

/// Installs the function `def` (which must live for the process) as a staticmethod of `cls`.
inline void install_static(py::handle cls, PyMethodDef& def) {
  auto function = py::reinterpret_steal<py::object>(PyCFunction_New(&def, nullptr));
  if (!function) throw py::error_already_set();
  auto method = py::reinterpret_steal<py::object>(PyStaticMethod_New(function.ptr()));
  if (!method) throw py::error_already_set();
  py::setattr(cls, def.ml_name, method);
}

}  // namespace mlops::python
