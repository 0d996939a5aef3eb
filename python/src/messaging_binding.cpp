// mlops.messaging: MessageType, Stage/Stages, CreatorType, MessageBuilder, MLOpsMessage.
// The enums are Python enum.Enum classes whose values are their names, as in the original;
// they map to the C++ enums by position, which is the C++ enums' own order.
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "binding.h"
#include "fast_call.h"
#include "mlops/messaging.h"
#include "value_conversion.h"

namespace mlops::python {
namespace {

using messaging::CreatorType;
using messaging::MessageBuilder;
using messaging::MessageType;
using messaging::MLOpsMessage;
using messaging::Stage;
using messaging::StringList;

/// A Python enum.Enum class and its members in the C++ enum's order (index = C++ value).
struct EnumTable {
  PyObject* cls = nullptr;
  std::vector<PyObject*> members;
};

EnumTable message_types;
EnumTable stages;
EnumTable creator_types;
PyObject* invalid_message_error = nullptr;

template <typename E, std::size_t N>
void make_enum(py::module_& m, EnumTable& table, const char* name, const char* doc) {
  py::list members;
  for (std::size_t i = 0; i < N; ++i) {
    const py::str value(std::string(messaging::to_string(static_cast<E>(i))));
    // CreatorType's text is lower case; its member names are upper case like the others.
    members.append(py::make_tuple(value.attr("upper")(), value));
  }
  py::object cls = py::module_::import("enum").attr("Enum")(
      name, members, py::arg("module") = "mlops.messaging", py::arg("qualname") = name);
  cls.attr("__doc__") = doc;
  m.add_object(name, cls);
  table.cls = cls.release().ptr();  // kept for the life of the process
  for (std::size_t i = 0; i < N; ++i) {
    const py::object item = py::handle(table.cls).attr(py::str(members[i].cast<py::tuple>()[0]));
    table.members.push_back(item.inc_ref().ptr());
  }
}

template <typename E>
E enum_value(const EnumTable& table, py::handle value, const char* what) {
  for (std::size_t i = 0; i < table.members.size(); ++i) {
    if (value.ptr() == table.members[i]) return static_cast<E>(i);
  }
  if (PyUnicode_Check(value.ptr())) {  // the member's text: "START"
    if (auto parsed = messaging::from_string<E>(utf8(value, what))) return *parsed;
    throw py::value_error(std::string(what) + ": unknown value '" + std::string(py::str(value)) +
                          "'");
  }
  throw py::type_error(std::string(what) + " must be a " +
                       std::string(py::str(py::handle(table.cls).attr("__name__"))) +
                       " member, not " + std::string(Py_TYPE(value.ptr())->tp_name));
}

py::object member(const EnumTable& table, std::size_t index) {
  if (index >= table.members.size()) return py::none();  // from a newer writer
  return py::reinterpret_borrow<py::object>(table.members[index]);
}

/// The canonical text of a creator type, as a cached str.
py::object creator_type_text(CreatorType type) {
  static std::array<PyObject*, 7> cache{};  // interned canonical names, kept for the process
  const auto index = static_cast<std::size_t>(type);
  if (index >= cache.size()) return text(messaging::to_string(type));
  if (cache[index] == nullptr) cache[index] = text(messaging::to_string(type)).release().ptr();
  return py::reinterpret_borrow<py::object>(cache[index]);
}

// --- Multi-valued text fields -------------------------------------------------------

enum class Field : std::uint8_t { kTopic, kNextTask, kOutput, kRecipient };

template <typename T>
void set_field(MessageBuilder& builder, Field field, const T& value) {
  switch (field) {
    case Field::kTopic:
      builder.with_topic(value);
      break;
    case Field::kNextTask:
      builder.with_next_task(value);
      break;
    case Field::kOutput:
      builder.with_output(value);
      break;
    case Field::kRecipient:
      builder.with_recipient(value);
      break;
  }
}

// One str (or os.PathLike, for output) reads back as one value; a list as a list.
std::string_view one_text(py::handle value, bool paths, std::vector<py::object>& keep,
                          const char* what) {
  if (PyUnicode_Check(value.ptr())) return utf8(value, what);
  if (paths && PyObject_HasAttrString(value.ptr(), "__fspath__") != 0) {
    auto path = py::reinterpret_steal<py::object>(PyOS_FSPath(value.ptr()));
    if (!path) throw py::error_already_set();
    if (!PyUnicode_Check(path.ptr())) path = py::module_::import("os").attr("fsdecode")(path);
    keep.push_back(path);
    return utf8(path, what);
  }
  throw py::type_error(std::string(what) + " must be str" + (paths ? ", os.PathLike" : "") +
                       " or a list of them, not " + std::string(Py_TYPE(value.ptr())->tp_name));
}

void set_text_field(MessageBuilder& builder, Field field, py::handle value, const char* what) {
  const bool paths = field == Field::kOutput;
  std::vector<py::object> keep;
  if (PyUnicode_Check(value.ptr()) ||
      (paths && PyObject_HasAttrString(value.ptr(), "__fspath__") != 0)) {
    set_field(builder, field, one_text(value, paths, keep, what));
    return;
  }
  if (PyList_Check(value.ptr()) || PyTuple_Check(value.ptr()) || PyAnySet_Check(value.ptr()) ||
      PyIter_Check(value.ptr())) {
    std::vector<std::string_view> texts;
    for (const auto element : py::reinterpret_borrow<py::iterable>(value)) {
      keep.push_back(py::reinterpret_borrow<py::object>(element));
      texts.push_back(one_text(element, paths, keep, what));
    }
    set_field(builder, field, texts);
    return;
  }
  (void)one_text(value, paths, keep, what);  // raises the TypeError
}

py::object read_text_field(const StringList& list) {
  if (!list.is_list() && list.size() <= 1) {
    if (list.empty()) return py::none();
    return text(list[0]);
  }
  py::list out(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) out[i] = text(list[i]);
  return out;
}

py::object optional_text(std::optional<std::string_view> value) {
  if (!value) return py::none();
  return text(*value);
}

// --- Additional arguments -------------------------------------------------------------

bool fits_int64(PyObject* number) noexcept {
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(number, &overflow);
  if (value == -1 && PyErr_Occurred() != nullptr) {
    PyErr_Clear();
    return false;
  }
  return overflow == 0;
}

void set_argument(MessageBuilder& builder, std::string_view key, py::handle value) {
  PyObject* object = value.ptr();
  // Scalars go straight into the buffer; anything nested through a Value.
  if (object == Py_None) {
    builder.with_additional_argument(key, nullptr);
  } else if (PyBool_Check(object)) {
    builder.with_additional_argument(key, object == Py_True);
  } else if (PyFloat_Check(object)) {
    builder.with_additional_argument(key, PyFloat_AS_DOUBLE(object));
  } else if (PyLong_Check(object) && fits_int64(object)) {
    builder.with_additional_argument(key, static_cast<std::int64_t>(PyLong_AsLongLong(object)));
  } else if (PyUnicode_Check(object)) {
    builder.with_additional_argument(key, utf8(value, "additional argument"));
  } else {
    builder.with_additional_argument(key, to_value(value));
  }
}

py::object arguments_dict(const MLOpsMessage& message) {
  const std::size_t count = message.additional_argument_count();
  if (count == 0) return py::none();
  py::dict out;
  for (std::size_t i = 0; i < count; ++i) {
    const auto argument = message.additional_argument_at(i);
    out[text(argument.key)] = from_view(argument.value);
  }
  return out;
}

// What with_additional_data was given: a dict is stored as one argument per key, anything
// else under the key "additional_data" (the C++ core's convention), and read back so.
py::object additional_data(const MLOpsMessage& message) {
  const std::size_t count = message.additional_argument_count();
  if (count == 1) {
    const auto argument = message.additional_argument_at(0);
    if (argument.key == "additional_data") return from_view(argument.value);
  }
  return arguments_dict(message);
}

[[noreturn]] void raise_invalid(const Error& error) {
  raise_error(invalid_message_error, error.message, to_string(error.code), "");
}

MLOpsMessage message_from_bytes(py::handle data) {
  Py_buffer view{};
  if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  auto parsed = MLOpsMessage::from_bytes(std::span<const std::uint8_t>(
      static_cast<const std::uint8_t*>(view.buf), static_cast<std::size_t>(view.len)));
  PyBuffer_Release(&view);
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

/// The Python MessageBuilder: the C++ builder plus the pending with_additional_data value.
/// The value is kept as given and written at build(), so a later with_additional_data
/// replaces an earlier one whole (the C++ builder can only add keys), and a dict's scalar
/// entries go straight into the buffer. Like the original, the builder holds the object
/// itself: changing the dict before build() changes the message.
struct PyBuilder {
  MessageBuilder builder;
  py::object additional_data;  // null when not set

  void apply_additional_data() {
    if (!additional_data) return;
    const py::object data = std::move(additional_data);
    additional_data = py::object();
    if (PyDict_Check(data.ptr())) {
      PyObject *key = nullptr, *value = nullptr;
      Py_ssize_t position = 0;
      while (PyDict_Next(data.ptr(), &position, &key, &value)) {
        set_argument(builder, utf8(key, "additional data key"), value);
      }
    } else {
      set_argument(builder, "additional_data", data);
    }
  }
};

// --- MessageBuilder's with_* methods: METH_FASTCALL descriptors returning the builder ----

void apply_msg_type(PyBuilder& self, py::handle type) {
  self.builder.with_msg_type(enum_value<MessageType>(message_types, type, "msg_type"));
}
void apply_topic(PyBuilder& self, py::handle topic) {
  set_text_field(self.builder, Field::kTopic, topic, "topic");
}
void apply_creator(PyBuilder& self, py::handle creator) {
  self.builder.with_creator(utf8(creator, "creator"));
}
void apply_creator_type(PyBuilder& self, py::handle type) {
  if (PyUnicode_Check(type.ptr())) {
    self.builder.with_creator_type(utf8(type, "creator_type"));  // normalised: "ETL" -> mlops
    drain_logs();                                                // an unknown type logs a warning
  } else {
    self.builder.with_creator_type(enum_value<CreatorType>(creator_types, type, "creator_type"));
  }
}
void apply_stage(PyBuilder& self, py::handle stage) {
  self.builder.with_stage(enum_value<Stage>(stages, stage, "stage"));
}
void apply_next_task(PyBuilder& self, py::handle task) {
  set_text_field(self.builder, Field::kNextTask, task, "next_task");
}
void apply_user_msg(PyBuilder& self, py::handle message) {
  self.builder.with_user_msg(utf8(message, "user_msg"));
}
void apply_retries(PyBuilder& self, py::handle retries) {
  if (!PyLong_Check(retries.ptr()) || PyBool_Check(retries.ptr())) {
    throw py::type_error("retries must be int, not " +
                         std::string(Py_TYPE(retries.ptr())->tp_name));
  }
  const long long value = PyLong_AsLongLong(retries.ptr());
  if (value == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
  if (value < INT32_MIN || value > INT32_MAX) throw py::value_error("retries must fit in 32 bits");
  self.builder.with_retries(static_cast<std::int32_t>(value));
}
void apply_output(PyBuilder& self, py::handle output) {
  set_text_field(self.builder, Field::kOutput, output, "output");
}
void apply_recipient(PyBuilder& self, py::handle recipient) {
  set_text_field(self.builder, Field::kRecipient, recipient, "recipient");
}
void apply_additional_data(PyBuilder& self, py::handle data) {
  self.additional_data = py::reinterpret_borrow<py::object>(data);
}
void apply_key(PyBuilder& self, py::handle key) { self.builder.with_key(utf8(key, "key")); }
void apply_id(PyBuilder& self, py::handle id) {
  auto parsed = messaging::MessageId::from_string(utf8(id, "id"));
  if (!parsed) throw py::value_error("not a message id: " + std::string(py::str(id)));
  self.builder.with_id(*parsed);
}
void apply_timestamp(PyBuilder& self, py::handle unix_ns) {
  self.builder.with_timestamp(py::cast<std::int64_t>(unix_ns));
}

template <void (*Apply)(PyBuilder&, py::handle)>
PyObject* with_method(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                      const char* arg, const char* name) noexcept {
  return guarded([&]() -> PyObject* {
    PyObject* value = single_argument(args, nargs, kwnames, arg, name);
    if (value == nullptr) return nullptr;
    auto* builder = cpp_self<PyBuilder>(self);
    if (builder == nullptr) return nullptr;
    Apply(*builder, value);
    Py_INCREF(self);
    return self;
  });
}

#define MLOPS_WITH(method, arg, apply, doc)                                                       \
  PyMethodDef {                                                                                   \
#method,                                                                                      \
        reinterpret_cast < PyCFunction>                                                           \
            (reinterpret_cast <void (*)()>(                                                       \
                +[](PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) { \
                  return with_method<apply>(self, args, nargs, kwnames, arg, #method);            \
                })),                                                                              \
        METH_FASTCALL | METH_KEYWORDS, doc                                                        \
  }

PyObject* builder_build(PyObject* self, PyObject* /*unused*/) noexcept {
  return guarded([&]() -> PyObject* {
    auto* builder = cpp_self<PyBuilder>(self);
    if (builder == nullptr) return nullptr;
    try {
      builder->apply_additional_data();
    } catch (...) {
      builder->builder.reset();  // no half-written message is left for the next build()
      throw;
    }
    return py::cast(builder->builder.build()).release().ptr();
  });
}

// MessageBuilder() is made once per message by the original's idiom: a direct __init__
// instead of pybind11's constructor dispatch, doing what that dispatch does (construct the
// value, then let pybind11 construct the holder and register the instance).
PyObject* builder_init(PyObject* self, PyObject* const* /*args*/, Py_ssize_t nargs,
                       PyObject* kwnames) noexcept {
  return guarded([&]() -> PyObject* {
    if (nargs != 0 || (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) != 0)) {
      throw py::type_error("MessageBuilder() takes no arguments");
    }
    auto* instance = reinterpret_cast<py::detail::instance*>(self);
    static py::detail::type_info* const type = py::detail::get_type_info(typeid(PyBuilder));
    auto holder = instance->get_value_and_holder(type);
    if (holder.holder_constructed()) throw py::type_error("MessageBuilder is already initialised");
    holder.value_ptr() = new PyBuilder();
    holder.type->init_instance(instance, nullptr);
    Py_RETURN_NONE;
  });
}

PyMethodDef builder_methods[] = {
    PyMethodDef{"__init__",
                reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&builder_init)),
                METH_FASTCALL | METH_KEYWORDS, "A builder with the original's defaults."},
    MLOPS_WITH(with_msg_type, "msg_type", apply_msg_type,
               "What the message reports (a MessageType)."),
    MLOPS_WITH(with_topic, "topic", apply_topic, "One topic (str) or a list of topics."),
    MLOPS_WITH(with_creator, "creator", apply_creator, "Who created the message."),
    MLOPS_WITH(
        with_creator_type, "creator_type", apply_creator_type,
        "A free-form creator type, normalised at once (\"ETL\" -> \"mlops\"), or a CreatorType."),
    MLOPS_WITH(with_stage, "stage", apply_stage, "The pipeline stage (a Stages member)."),
    MLOPS_WITH(with_next_task, "next_task", apply_next_task, "One next task (str) or a list."),
    MLOPS_WITH(with_user_msg, "user_msg", apply_user_msg, "The free-text message."),
    MLOPS_WITH(with_retries, "retries", apply_retries, "How often the work was retried."),
    MLOPS_WITH(with_output, "output", apply_output,
               "One output (str or os.PathLike, read back as str) or a list."),
    MLOPS_WITH(with_recipient, "recipient", apply_recipient, "One recipient (str) or a list."),
    MLOPS_WITH(
        with_additional_data, "additional_data", apply_additional_data,
        "Any JSON-like value; reads back as given. A dict becomes one additional argument "
        "per key, anything else the argument \"additional_data\". Replaces an earlier call whole."),
    MLOPS_WITH(with_key, "key", apply_key,
               "The ordering key: messages with one key keep their order on partitioned "
               "backends (the Kafka record key). \"\" removes it."),
    MLOPS_WITH(with_id, "id", apply_id,
               "An explicit id (canonical UUID text) instead of a fresh one."),
    MLOPS_WITH(with_timestamp, "unix_ns", apply_timestamp,
               "An explicit creation time, ns since the Unix epoch."),
    PyMethodDef{"build", builder_build, METH_NOARGS,
                "The immutable message; the builder is reset to its defaults."},
};
#undef MLOPS_WITH

void bind_builder(py::module_& m) {
  py::class_<PyBuilder> cls(m, "MessageBuilder", R"doc(
Builds an immutable MLOpsMessage. Defaults: msg_type OTHER, creator_type "unknown",
retries 0, everything else unset. Every with_* returns the builder; a later call for a
field overwrites the earlier one. build() returns the message and resets the builder.)doc");
  using Self = PyBuilder&;
  const auto ref = py::return_value_policy::reference;
  cls.def(
         "with_additional_argument",
         [](Self self, py::handle key, py::handle value) -> Self {
           set_argument(self.builder, utf8(key, "key"), value);
           return self;
         },
         py::arg("key"), py::arg("value"), ref, "Sets one additional argument.")
      .def(
          "with_additional_arguments",
          [](Self self, const py::dict& arguments) -> Self {
            for (const auto& [key, value] : arguments)
              set_argument(self.builder, utf8(key, "key"), value);
            return self;
          },
          py::arg("arguments"), ref, "Sets every entry of a dict as an additional argument.")
      .def(
          "reset",
          [](Self self) {
            self.builder.reset();
            self.additional_data = py::object();
          },
          "Drops every field set so far.")
      .def_static(
          "from_message",
          [](const MLOpsMessage& message) {
            return PyBuilder{MessageBuilder::from_message(message), py::object()};
          },
          py::arg("message"), "A builder holding every field of message (new id and timestamp).");
  for (auto& method : builder_methods) install(cls, method);
  cls.attr("__module__") = "mlops.messaging";
}

// --- MLOpsMessage's properties: getset descriptors without a setter (read-only) ----------

py::object read_message_type(const MLOpsMessage& msg) {
  return member(message_types, static_cast<std::size_t>(msg.message_type()));
}
py::object read_topic(const MLOpsMessage& msg) { return read_text_field(msg.topic()); }
py::object read_creator(const MLOpsMessage& msg) { return optional_text(msg.creator()); }
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
PyObject* getter(PyObject* self, void* /*closure*/) noexcept {
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
    {"id", getter<read_id>, nullptr,
     "The unique, time-ordered id as UUID text, or None (foreign writers).", nullptr},
    {"timestamp", getter<read_timestamp>, nullptr,
     "Creation time in ns since the Unix epoch, or None (foreign writers).", nullptr},
    {"nbytes", getter<read_nbytes>, nullptr, "Size of the wire bytes.", nullptr},
};

void bind_message(py::module_& m) {
  py::class_<MLOpsMessage> cls(m, "MLOpsMessage", py::buffer_protocol(), R"doc(
An immutable pipeline message read in place from its FlatBuffers bytes. Built with
MessageBuilder or received from a Consumer; bytes(msg) and memoryview(msg) give the wire
bytes; MLOpsMessage.from_bytes() reads them back.)doc");
  cls.def(
         "get_additional_argument",
         [](const MLOpsMessage& msg, py::handle key, py::object default_value) {
           const auto value = msg.additional_argument(utf8(key, "key"));
           return value ? from_view(*value) : default_value;
         },
         py::arg("key"), py::arg("default") = py::none(), "One additional argument, or default.")
      .def(
          "to_json",
          [](const MLOpsMessage& msg) {
            auto json = msg.to_json();
            if (!json) throw std::runtime_error(json.error().message);
            return text(*json);
          },
          "The message as one line of JSON.")
      .def("__bytes__",
           [](const MLOpsMessage& msg) {
             const auto bytes = msg.bytes();
             return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
           })
      .def_buffer([](const MLOpsMessage& msg) {
        // Read-only and without a copy; the memoryview holds this Python object (and so the
        // bytes) alive for as long as it exists.
        const auto bytes = msg.bytes();
        return py::buffer_info(const_cast<std::uint8_t*>(bytes.data()), 1,
                               py::format_descriptor<std::uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(bytes.size())}, {py::ssize_t{1}}, true);
      })
      .def("__eq__",
           [](const MLOpsMessage& a, py::handle b) -> py::object {
             if (!py::isinstance<MLOpsMessage>(b))
               return py::reinterpret_borrow<py::object>(Py_NotImplemented);
             const auto other = b.cast<const MLOpsMessage&>().bytes();
             const auto mine = a.bytes();
             return py::bool_(std::equal(mine.begin(), mine.end(), other.begin(), other.end()));
           })
      .def("__hash__",
           [](const MLOpsMessage& msg) {
             const auto bytes = msg.bytes();
             return py::hash(py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
           })
      .def("__repr__", &repr)
      .def_static("from_bytes", &message_from_bytes, py::arg("data"),
                  "Verifies wire bytes (any bytes-like object) and copies them into a new "
                  "message; raises InvalidMessageError (a ValueError) when they are not one.")
      .def_static(
          "from_json",
          [](py::handle json) {
            auto parsed = MessageBuilder::from_json(utf8(json, "json"));
            if (!parsed) raise_invalid(parsed.error());
            return std::move(parsed).value();
          },
          py::arg("json"), "Reads the JSON to_json() writes; raises InvalidMessageError.");
  for (auto& property : message_properties) install(cls, property);
  cls.attr("__module__") = "mlops.messaging";
}

}  // namespace

void bind_messaging(py::module_& m) {
  make_enum<MessageType, 6>(m, message_types, "MessageType",
                            "What a message reports; each value's text is its name.");
  make_enum<Stage, 8>(
      m, stages, "Stages",
      "Where a piece of work stands in the pipeline; each value's text is its name.");
  m.attr("Stage") = m.attr("Stages");
  make_enum<CreatorType, 7>(m, creator_types, "CreatorType",
                            "The canonical creator types; each value is the lower-case text.");
  invalid_message_error = make_exception(m, "InvalidMessageError", PyExc_ValueError,
                                         "Bytes or JSON that are not a valid MLOpsMessage; "
                                         "`code` names why (\"corrupt\", \"truncated\", ...).");
  m.def(
      "normalize_creator_type",
      [](py::handle text_value) {
        const auto type = messaging::normalize_creator_type(utf8(text_value, "creator_type"));
        drain_logs();
        return creator_type_text(type);
      },
      py::arg("creator_type"),
      "The canonical creator type for free-form text (\"ETL\" -> \"mlops\").");
  bind_message(m);
  bind_builder(m);
}

}  // namespace mlops::python
