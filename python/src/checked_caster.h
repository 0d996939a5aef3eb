#pragma once
/// \file Refusing instances whose __init__ never ran (`Producer.__new__(Producer)`).
/// pybind11 hands such an instance to a method as a C++ object it allocates there and then
/// without constructing it (its "lazy allocation"), so the method reads uninitialised memory.
/// MLOPS_CHECKED_CASTER(T) makes every pybind11 argument of type T refuse it with a TypeError
/// instead; the raw descriptors check through cpp_self() (fast_call.h).

#include <string>

#include "binding.h"

namespace mlops::python {

/// TypeError for an instance made without __init__.
[[noreturn]] inline void raise_uninitialised(PyObject* object) {
  throw py::type_error(std::string(Py_TYPE(object)->tp_name) +
                       " object is not initialised (made with __new__ without __init__)");
}

}  // namespace mlops::python

namespace pybind11::detail {

/// A type_caster_base<T> whose load refuses an instance that holds no constructed T.
template <typename T>
class mlops_checked_caster : public type_caster_base<T> {
 public:
  bool load(handle src, bool convert) {
    return this->template load_impl<mlops_checked_caster<T>>(src, convert);
  }
  // Called by load_impl with the instance's slot for T, before pybind11 would allocate it.
  void load_value(value_and_holder&& v_h) {
    if (v_h.value_ptr() == nullptr) {
      mlops::python::raise_uninitialised(reinterpret_cast<PyObject*>(v_h.inst));
    }
    type_caster_base<T>::load_value(std::move(v_h));
  }
};

}  // namespace pybind11::detail

/// Declares the checked caster for T; at namespace scope, before T is used with pybind11.
#define MLOPS_CHECKED_CASTER(T)                             \
  namespace pybind11::detail {                              \
  template <>                                               \
  class type_caster<T> : public mlops_checked_caster<T> {}; \
  }
