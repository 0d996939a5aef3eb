// mlops.messaging.MLOpsMessage: an immutable view over verified FlatBuffers bytes. Its
// properties are getset descriptors without a setter (read-only, tens of ns each).
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "core_casters.h"
#include "fast_call.h"
#include "message_equality.h"
#include "messaging_enums.h"
#include "mlops/messaging.h"
#include "name_text.h"
#include "value_conversion.h"

namespace mlops::python {
namespace {

using messaging::MessageBuilder;
using messaging::MLOpsMessage;
using messaging::StringList;

// Topics, tasks, outputs, recipients and creators name things that recur from message to
// message: their strs come from name_text's cache.
py::object read_text_field(const StringList& list) {
  if (!list.is_list() && list.size() <= 1) {
    if (list.empty()) return py::none();
    return name_text(list[0]);
  }
  auto out = steal(PyList_New(static_cast<Py_ssize_t>(list.size())));
  for (std::size_t i = 0; i < list.size(); ++i) {
    PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), name_text(list[i]).release().ptr());
  }
  return out;
}

py::object optional_text(std::optional<std::string_view> value) {
  if (!value) return py::none();
  return text(*value);
}

py::object optional_name(std::optional<std::string_view> value) {
  if (!value) return py::none();
  return name_text(*value);
}

py::object arguments_dict(const MLOpsMessage& message) {
  const std::size_t count = message.additional_argument_count();
  if (count == 0) return py::none();
  auto out = steal(PyDict_New());
  for (std::size_t i = 0; i < count; ++i) {
    const auto argument = message.additional_argument_at(i);
    set_item(out, name_text(argument.key), from_view(argument.value));
  }
  return out;
}

// What with_additional_data was given: a dict is stored as one argument per key, anything
// else under the key "additional_data" (the C++ core's convention), and read back so.
py::object additional_data(const MLOpsMessage& message) {
  if (message.additional_data_is_empty_map()) return py::dict();
  const std::size_t count = message.additional_argument_count();
  if (count == 1) {
    const auto argument = message.additional_argument_at(0);
    if (argument.key == "additional_data") return from_view(argument.value);
  }
  return arguments_dict(message);
}

PyObject* invalid_message_error = nullptr;

[[noreturn]] void raise_invalid(const Error& error) {
  raise_error(invalid_message_error, error.message, to_string(error.code), "");
}

MLOpsMessage message_from_bytes(py::handle data) {
  if (PyBytes_CheckExact(data.ptr())) {  // the common case: no buffer protocol round trip
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(data.ptr())),
                          static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr())));
    auto parsed = MLOpsMessage::from_bytes(bytes);
    if (!parsed) raise_invalid(parsed.error());
    return std::move(parsed).value();
  }
  const BytesView view(data, "data");
  auto parsed = MLOpsMessage::from_bytes(view.bytes());
  if (!parsed) raise_invalid(parsed.error());
  return std::move(parsed).value();
}

std::string repr(const MLOpsMessage& message) {
  std::string out = "<MLOpsMessage ";
  out += messaging::to_string(message.message_type());
  if (!message.topic().empty()) {
    out += " topic=";
    out += message.topic()[0];
    if (message.topic().size() > 1) out += ",...";
  }
  if (auto creator = message.creator()) {
    out += " creator=";
    out += *creator;
  }
  if (auto id = message.id()) out += " id=" + id->to_string();
  out += " bytes=" + std::to_string(message.bytes().size()) + ">";
  return out;
}

// --- Properties: getset descriptors without a setter (read-only) ------------------------

py::object read_message_type(const MLOpsMessage& msg) {
  return member(message_types, static_cast<std::size_t>(msg.message_type()));
}
py::object read_topic(const MLOpsMessage& msg) { return read_text_field(msg.topic()); }
py::object read_creator(const MLOpsMessage& msg) { return optional_name(msg.creator()); }
py::object read_creator_type(const MLOpsMessage& msg) {
  return creator_type_text(msg.creator_type());
}
py::object read_stage(const MLOpsMessage& msg) {
  const auto stage = msg.stage();
  return stage ? member(stages, static_cast<std::size_t>(*stage)) : py::none();
}
py::object read_next_task(const MLOpsMessage& msg) { return read_text_field(msg.next_task()); }
py::object read_user_message(const MLOpsMessage& msg) { return optional_text(msg.user_message()); }
py::object read_retries(const MLOpsMessage& msg) { return py::int_(msg.retries()); }
py::object read_output(const MLOpsMessage& msg) { return read_text_field(msg.output()); }
py::object read_recipient(const MLOpsMessage& msg) { return read_text_field(msg.recipient()); }
py::object read_key(const MLOpsMessage& msg) { return optional_text(msg.key()); }
py::object read_trace_context(const MLOpsMessage& msg) {
  return optional_text(msg.trace_context());
}
py::object read_id(const MLOpsMessage& msg) {
  const auto id = msg.id();
  return id ? py::object(py::str(id->to_string())) : py::object(py::none());
}
py::object read_timestamp(const MLOpsMessage& msg) {
  const auto stamp = msg.timestamp();
  return stamp ? py::object(py::int_(static_cast<long long>(*stamp))) : py::object(py::none());
}
py::object read_nbytes(const MLOpsMessage& msg) { return py::int_(msg.bytes().size()); }

template <py::object (*Read)(const MLOpsMessage&)>
PyObject* getter(PyObject* self, void* /*closure*/) {
  return guarded([&]() -> PyObject* {
    const auto* message = cpp_self<MLOpsMessage>(self);
    if (message == nullptr) return nullptr;
    return Read(*message).release().ptr();
  });
}

PyGetSetDef message_properties[] = {
    {"message_type", getter<read_message_type>, nullptr, "The MessageType (OTHER unless set).",
     nullptr},
    {"topic", getter<read_topic>, nullptr, "A str, a list of str, or None.", nullptr},
    {"creator", getter<read_creator>, nullptr, "Who created it, or None.", nullptr},
    {"creator_type", getter<read_creator_type>, nullptr,
     "The canonical creator type as text (\"mlops\", \"unknown\", ...).", nullptr},
    {"stage", getter<read_stage>, nullptr, "The Stages member, or None.", nullptr},
    {"next_task", getter<read_next_task>, nullptr, "A str, a list of str, or None.", nullptr},
    {"user_message", getter<read_user_message>, nullptr, "The free-text message, or None.",
     nullptr},
    {"retries", getter<read_retries>, nullptr, "How often the work was retried (0 unless set).",
     nullptr},
    {"output", getter<read_output>, nullptr, "A str, a list of str, or None.", nullptr},
    {"recipient", getter<read_recipient>, nullptr, "A str, a list of str, or None.", nullptr},
    {"additional_data", getter<additional_data>, nullptr,
     "What with_additional_data was given (a dict of every additional argument when several "
     "were set), or None.",
     nullptr},
    {"additional_arguments", getter<arguments_dict>, nullptr,
     "Every additional argument as a dict, or None when there are none.", nullptr},
    {"key", getter<read_key>, nullptr, "The ordering key (with_key), or None.", nullptr},
    {"trace_context", getter<read_trace_context>, nullptr,
     "The W3C traceparent (with_trace_context, child_of), or None.", nullptr},
    {"id", getter<read_id>, nullptr,
     "The unique, time-ordered id as UUID text, or None (foreign writers).", nullptr},
    {"timestamp", getter<read_timestamp>, nullptr,
     "Creation time in ns since the Unix epoch, or None (foreign writers).", nullptr},
    {"nbytes", getter<read_nbytes>, nullptr, "Size of the wire bytes.", nullptr},
};

// bytes(msg) and MLOpsMessage.from_bytes() run once per message on the send and receive
// paths: METH_NOARGS / METH_FASTCALL instead of pybind11's dispatcher.
PyObject* message_bytes(PyObject* self, PyObject* /*unused*/) {
  const auto* message = cpp_self<MLOpsMessage>(self);
  if (message == nullptr) return nullptr;
  const auto bytes = message->bytes();
  return PyBytes_FromStringAndSize(reinterpret_cast<const char*>(bytes.data()),
                                   static_cast<Py_ssize_t>(bytes.size()));
}

PyMethodDef bytes_method{"__bytes__", message_bytes, METH_NOARGS,
                         "The wire bytes, copied into a bytes object."};

PyObject* from_bytes(PyObject* /*unused*/, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* data = single_argument(args, nargs, kwnames, "data", "from_bytes");
    if (data == nullptr) return nullptr;
    return wrap_new(message_from_bytes(data));
  });
}

PyMethodDef from_bytes_method{
    "from_bytes", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&from_bytes)),
    METH_FASTCALL | METH_KEYWORDS,
    "from_bytes(data)\n\nVerifies wire bytes (any bytes-like object) and copies them into a new "
    "message; raises InvalidMessageError (a ValueError) when they are not one."};

// MLOpsMessage has no __init__: instances come from build(), from_bytes() and receive(),
// which make them through pybind11's tp_alloc. Refusing tp_new itself leaves no way to make
// one whose message was never constructed (MLOpsMessage.__new__(MLOpsMessage), and the base
// class's __new__, which CPython refuses once this type's tp_new differs from the base's).
PyObject* refuse_new(PyTypeObject* /*type*/, PyObject* /*args*/, PyObject* /*kwargs*/) {
  PyErr_SetString(PyExc_TypeError,
                  "MLOpsMessage cannot be made directly: use MessageBuilder().build(), "
                  "MLOpsMessage.from_bytes() or MLOpsMessage.from_json()");
  return nullptr;
}

// The buffer protocol, read-only and without a copy; the view holds the message (and so
// its bytes) alive. Installed directly: pybind11's def_buffer crashes on an instance whose
// message is missing, where this raises.
int get_buffer(PyObject* self, Py_buffer* view, int flags) {
  const auto* message = cpp_self<MLOpsMessage>(self);
  if (message == nullptr) {
    if (view != nullptr) view->obj = nullptr;
    return -1;
  }
  const auto bytes = message->bytes();
  return PyBuffer_FillInfo(view, self, const_cast<std::uint8_t*>(bytes.data()),
                           static_cast<Py_ssize_t>(bytes.size()), /*readonly=*/1, flags);
}

// pybind11's tp_dealloc, for the instances dealloc_message leaves to it.
destructor g_pybind11_dealloc = nullptr;

// A message object as wrap_new makes it (simple layout, a constructed std::unique_ptr holder,
// not in pybind11's instance table, no weak references or keep-alive patients) is freed here
// directly: what pybind11's clear_instance does for it, less its error save/restore, holder
// walk and layout checks (one object dies per message on each path). The message's
// destructor runs no Python code (its bytes are owned by C++). Anything else: pybind11's own.
void dealloc_message(PyObject* self) {
  auto* instance = reinterpret_cast<py::detail::instance*>(self);
  // A Python subclass's instance (its own tp_dealloc calls this one) may carry a __dict__.
  if (Py_TYPE(self)->tp_dealloc != &dealloc_message || !instance->simple_layout ||
      !instance->simple_holder_constructed || instance->simple_instance_registered ||
      instance->has_patients || instance->weakrefs != nullptr) {
    g_pybind11_dealloc(self);
    return;
  }
  using Holder = std::unique_ptr<MLOpsMessage>;
  std::launder(reinterpret_cast<Holder*>(&instance->simple_value_holder[1]))->~Holder();
  instance->simple_value_holder[0] = nullptr;
  instance->simple_holder_constructed = false;
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);  // heap types' instances hold a reference to their type
}

void install_type_slots(py::handle cls) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  type->tp_new = &refuse_new;
  // wrap_new builds with the default holder: dealloc_message frees exactly that.
  if (py::detail::get_type_info(typeid(MLOpsMessage))->default_holder) {
    g_pybind11_dealloc = type->tp_dealloc;
    type->tp_dealloc = &dealloc_message;
  }
  // MLOpsMessage.__new__ would find the base class's (which refuses with a murkier message).
  // Stored straight into the dict: setting the attribute would make tp_new a slot that
  // calls it, which the base's __new__ then accepts.
  static PyMethodDef new_method{
      "__new__",
      +[](PyObject* /*unused*/, PyObject* /*args*/) {
        return refuse_new(nullptr, nullptr, nullptr);
      },
      METH_VARARGS,
      "Refused: MLOpsMessage instances come from build(), from_bytes(), from_json()."};
  const auto function = py::reinterpret_steal<py::object>(PyCFunction_New(&new_method, nullptr));
  if (!function) throw py::error_already_set();
  const auto method = py::reinterpret_steal<py::object>(PyStaticMethod_New(function.ptr()));
  if (!method || PyDict_SetItemString(type->tp_dict, "__new__", method.ptr()) != 0) {
    throw py::error_already_set();
  }
  type->tp_as_buffer->bf_getbuffer = &get_buffer;
  type->tp_as_buffer->bf_releasebuffer = nullptr;
  PyType_Modified(type);
}

}  // namespace

void bind_message(py::module_& m) {
  invalid_message_error = make_exception(m, "InvalidMessageError", PyExc_ValueError,
                                         "Bytes or JSON that are not a valid MLOpsMessage; "
                                         "`code` names why (\"corrupt\", \"truncated\", ...).");
  py::class_<MLOpsMessage> cls(m, "MLOpsMessage", py::buffer_protocol(), R"doc(
An immutable pipeline message read in place from its FlatBuffers bytes. Built with
MessageBuilder or received from a Consumer; bytes(msg) and memoryview(msg) give the wire
bytes; MLOpsMessage.from_bytes() reads them back. Two messages are equal when every field
reads the same (their bytes may differ: from_json(to_json_text(m)) == m; to_json() is the
original's dict, which keeps no id or timestamp).)doc");
  cls.def(
         "get_additional_argument",
         [](const MLOpsMessage& msg, py::handle key, py::object default_value) {
           const auto value = msg.additional_argument(utf8(key, "key"));
           return value ? from_view(*value) : default_value;
         },
         py::arg("key"), py::arg("default") = py::none(), "One additional argument, or default.")
      .def(
          "to_json_text",
          [](const MLOpsMessage& msg) {
            auto json = msg.to_json();
            if (!json) throw std::runtime_error(json.error().message);
            return text(*json);
          },
          "The message as one line of FlatBuffers JSON (every field, id and timestamp "
          "included; from_json() reads it back). JSON has no bytes: a bytes value reads back from "
          "from_json() as str (its bytes as surrogate escapes: s.encode('utf-8', "
          "'surrogateescape') gives them back).")
      .def(
          "json_serialization",
          [](const MLOpsMessage& msg) {
            auto json = messaging::legacy_json::encode(msg);
            if (!json) throw py::type_error(json.error().message);
            return py::bytes(*json);
          },
          "The original's wire form: the UTF-8 bytes of json.dumps(msg.to_json()) (additional "
          "data keys sorted). Raises TypeError for bytes values, as json.dumps does.")
      .def_static(
          "_from_legacy_json",
          [](py::handle data) {
            Result<MLOpsMessage> parsed = Error{ErrorCode::kEmpty, "no data"};
            if (PyUnicode_Check(data.ptr())) {
              parsed = messaging::legacy_json::decode(utf8(data, "data"));
            } else {
              const BytesView view(data, "data");
              parsed = messaging::legacy_json::decode(view.bytes());
            }
            if (!parsed) raise_invalid(parsed.error());
            return std::move(parsed).value();
          },
          py::arg("data"),
          "The message in the original's JSON (bytes or str); raises InvalidMessageError.")
      .def("__eq__",
           [](const MLOpsMessage& a, py::handle b) -> py::object {
             if (!py::isinstance<MLOpsMessage>(b))
               return py::reinterpret_borrow<py::object>(Py_NotImplemented);
             return py::bool_(same_fields(a, b.cast<const MLOpsMessage&>()));
           })
      .def("__hash__",
           [](const MLOpsMessage& msg) {
             // Equal messages have the same id and timestamp (same_fields compares both).
             const auto id = msg.id().value_or(messaging::MessageId{});
             return py::hash(py::make_tuple(id.hi, id.lo, msg.timestamp().value_or(0)));
           })
      .def("__repr__", &repr)
      .def_static(
          "from_json",
          [](py::handle json) {
            auto parsed = MessageBuilder::from_json(utf8(json, "json"));
            if (!parsed) raise_invalid(parsed.error());
            return std::move(parsed).value();
          },
          py::arg("json"), "Reads the JSON to_json() writes; raises InvalidMessageError.");
  for (auto& property : message_properties) install(cls, property);
  install(cls, bytes_method);
  install_static(cls, from_bytes_method);
  install_type_slots(cls);
  cls.attr("__module__") = "mlops.messaging";
}

}  // namespace mlops::python
