// Conversions between Python objects and the additional-argument values of a message.
#include "value_conversion.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "mlops/messaging/message_builder.h"
#include "name_text.h"

namespace mlops::python {
namespace {

using messaging::Value;
using messaging::ValueType;
using messaging::ValueView;

// Deeper Python structures are refused before they can exhaust the C++ stack (a list that
// contains itself would recurse forever); the builder enforces the message's own limit.
constexpr std::size_t kMaxPythonDepth = messaging::kMaxValueDepth + 1;

Value convert(PyObject* object, std::size_t depth) {
  if (depth > kMaxPythonDepth) {
    throw py::value_error("additional data nests deeper than " +
                          std::to_string(messaging::kMaxValueDepth) + " levels");
  }
  if (object == Py_None) return Value(nullptr);
  if (PyBool_Check(object)) return Value(object == Py_True);
  if (PyLong_Check(object)) {
    int overflow = 0;
    const long long number = PyLong_AsLongLongAndOverflow(object, &overflow);
    if (overflow != 0) {
      PyErr_SetString(PyExc_OverflowError, "additional data int does not fit in 64 bits");
      throw py::error_already_set();
    }
    if (number == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
    return Value(static_cast<std::int64_t>(number));
  }
  if (PyFloat_Check(object)) return Value(PyFloat_AS_DOUBLE(object));
  if (PyUnicode_Check(object)) return Value(std::string(utf8(object, "text")));
  if (PyDict_Check(object)) {
    Value::Map map;
    for_each_entry(object, "an additional data dict", [&](py::handle key, py::handle item) {
      if (!PyUnicode_Check(key.ptr())) {
        throw py::type_error("additional data keys must be str, not " +
                             std::string(Py_TYPE(key.ptr())->tp_name));
      }
      // The key is copied before the value is converted (which may run Python code).
      std::string name(utf8(key, "key"));
      Value converted = convert(item.ptr(), depth + 1);
      map.insert_or_assign(std::move(name), std::move(converted));
    });
    return Value(std::move(map));
  }
  if (PyList_Check(object) || PyTuple_Check(object)) {
    // Each element is held while converted; a list that shrinks meanwhile raises IndexError.
    const py::sequence sequence = py::reinterpret_borrow<py::sequence>(object);
    Value::List list;
    list.reserve(sequence.size());
    for (const auto element : sequence) list.push_back(convert(element.ptr(), depth + 1));
    return Value(std::move(list));
  }
  if (PyObject_CheckBuffer(object) != 0) {
    const BytesView view(object, "additional data bytes");
    const auto bytes = view.bytes();
    const auto* data = reinterpret_cast<const std::byte*>(bytes.data());
    return Value(Value::Bytes(data, data + bytes.size()));
  }
  if (PyObject_HasAttrString(object, "__fspath__") != 0) {
    const py::object path = py::reinterpret_steal<py::object>(PyOS_FSPath(object));
    if (!path) throw py::error_already_set();
    return convert(py::module_::import("os").attr("fsdecode")(path).ptr(), depth);
  }
  throw py::type_error(
      "additional data must be JSON-like (None, bool, int, float, str, bytes, "
      "list, tuple, dict with str keys), not " +
      std::string(Py_TYPE(object)->tp_name));
}

}  // namespace

Value to_value(py::handle object) { return convert(object.ptr(), 0); }

// Raw CPython calls: a dict or list is filled with PyDict_SetItem / PyList_SET_ITEM
// instead of pybind11's item accessors (PyObject_SetItem's generic dispatch), and keys come
// from name_text's cache. Read once per message on the receive path.
py::object from_view(const ValueView& view) {
  switch (view.type()) {
    case ValueType::kNull: return py::none();
    case ValueType::kBool: return py::bool_(view.as_bool().value_or(false));
    case ValueType::kInt:
      return steal(PyLong_FromLongLong(static_cast<long long>(view.as_int().value_or(0))));
    case ValueType::kDouble: return steal(PyFloat_FromDouble(view.as_double().value_or(0.0)));
    case ValueType::kString: return text(view.as_string().value_or(std::string_view()));
    case ValueType::kBytes: {
      const auto bytes = view.as_bytes().value_or(std::span<const std::byte>());
      return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    case ValueType::kList: {
      const std::size_t size = view.size();
      auto list = steal(PyList_New(static_cast<Py_ssize_t>(size)));
      for (std::size_t i = 0; i < size; ++i) {
        PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), from_view(view[i]).release().ptr());
      }
      return list;
    }
    case ValueType::kMap: {
      auto dict = steal(PyDict_New());
      const std::size_t size = view.size();
      for (std::size_t i = 0; i < size; ++i)
        set_item(dict, name_text(view.key_at(i)), from_view(view[i]));
      return dict;
    }
  }
  return py::none();
}

py::object steal(PyObject* made) {
  if (made == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(made);
}

void set_item(const py::object& dict, const py::object& key, const py::object& value) {
  if (PyDict_SetItem(dict.ptr(), key.ptr(), value.ptr()) != 0) throw py::error_already_set();
}

}  // namespace mlops::python
