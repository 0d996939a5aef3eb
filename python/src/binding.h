#pragma once
/// \file What the binding's source files share: each one binds one area into its submodule.

#include <pybind11/pybind11.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mlops/result.h"

namespace mlops::python {

namespace py = pybind11;

/// Binds mlops::messaging into `m` (the module mlops._mlops.messaging).
void bind_messaging(py::module_& m);
/// Binds MLOpsMessage into `m` (called by bind_messaging, after the enums).
void bind_message(py::module_& m);
/// Binds MessageBuilder into `m` (called by bind_messaging, after MLOpsMessage).
void bind_builder(py::module_& m);
/// Binds mlops::orchestration into `m` (the module mlops._mlops.orchestration).
void bind_orchestration(py::module_& m);
/// Binds Producer into `m` (called by bind_orchestration, after the exception classes).
void bind_producer(py::module_& m);
/// Binds Consumer into `m` (called by bind_orchestration, after the exception classes).
void bind_consumer(py::module_& m);
/// Binds Backoff into `m` (before bind_consumer: Consumer.retry takes one).
void bind_backoff(py::module_& m);

/// Routes the library's log lines to Python's `logging` (logger "mlops").
void install_log_bridge(py::module_& m);
/// Hands queued log lines (logged while the GIL was released) to `logging`. Needs the GIL.
void drain_logs();
/// Forgets the last warning or error this thread logged.
void clear_last_log() noexcept;
/// The last warning or error this thread logged since clear_last_log(), or "".
std::string last_log();
/// Holds the lock of the queue of log lines across fork() (the at-fork hooks), so that a
/// child never inherits it locked by another thread.
void lock_log_queue() noexcept;
void unlock_log_queue() noexcept;

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
  // Pure-ASCII text is its own UTF-8: read in place, no call (most field values are).
  if (PyUnicode_IS_COMPACT_ASCII(value.ptr())) {
    return {static_cast<const char*>(PyUnicode_DATA(value.ptr())),
            static_cast<std::size_t>(PyUnicode_GET_LENGTH(value.ptr()))};
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
  if (data == nullptr) throw py::error_already_set();
  return {data, static_cast<std::size_t>(size)};
}

/// The bytes of a bytes-like object, held (and valid) until this is destroyed. Only a
/// C-contiguous buffer is taken: a strided view (memoryview(b)[::-1]) would be read past its
/// end as plain bytes. Made and destroyed with the GIL held.
class BytesView {
 public:
  /// TypeError naming `what` unless `object` is a contiguous bytes-like object.
  BytesView(py::handle object, const char* what) {
    if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw py::type_error(std::string(what) + " must be a contiguous bytes-like object, not " +
                           std::string(Py_TYPE(object.ptr())->tp_name));
    }
  }
  ~BytesView() { PyBuffer_Release(&view_); }
  BytesView(const BytesView&) = delete;
  BytesView& operator=(const BytesView&) = delete;

  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept {
    return {static_cast<const std::uint8_t*>(view_.buf), static_cast<std::size_t>(view_.len)};
  }

 private:
  Py_buffer view_{};
};

}  // namespace mlops::python
