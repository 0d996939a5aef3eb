// mlops.messaging.MessageBuilder: the original's fluent builder over the C++ MessageBuilder.
// The with_* methods are METH_FASTCALL descriptors returning the builder (fast_call.h).
#include <pybind11/stl.h>

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core_casters.h"
#include "fast_call.h"
#include "messaging_enums.h"
#include "mlops/messaging.h"
#include "value_conversion.h"

namespace mlops::python {
namespace {

using messaging::CreatorType;
using messaging::MessageBuilder;
using messaging::MessageType;
using messaging::MLOpsMessage;
using messaging::Stage;

/// The Python MessageBuilder: the C++ builder plus the pending with_additional_data value.
/// The value is kept as given and written at build(), so a later with_additional_data
/// replaces an earlier one whole (the C++ builder can only add keys), and a dict's scalar
/// entries go straight into the buffer. Like the original, the builder holds the object
/// itself: changing the dict before build() changes the message.
struct PyBuilder {
  MessageBuilder builder;
  py::object additional_data;  // null when not set since the last build()
  // The argument keys the last applied with_additional_data wrote: a later one replaces them
  // whole (the builder keeps its fields across build(), as the original's did).
  std::vector<std::string> data_keys;

  // `reused`: the builder may build again, so the keys written are remembered for the next
  // with_additional_data to replace; build_message's one-shot builder skips that.
  void apply_additional_data(bool reused = true);
  void clear() {
    builder.reset();
    additional_data = py::object();
    data_keys.clear();
  }
};

}  // namespace
}  // namespace mlops::python

MLOPS_CHECKED_CASTER(mlops::python::PyBuilder)

namespace mlops::python {
namespace {

// --- Multi-valued text fields -------------------------------------------------------

enum class Field : std::uint8_t { kTopic, kNextTask, kOutput, kRecipient };

template <typename T>
void set_field(MessageBuilder& builder, Field field, const T& value) {
  switch (field) {
    case Field::kTopic: builder.with_topic(value); break;
    case Field::kNextTask: builder.with_next_task(value); break;
    case Field::kOutput: builder.with_output(value); break;
    case Field::kRecipient: builder.with_recipient(value); break;
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

// `key` and `value` must stay alive while `value` is converted, which may run Python code
// (__fspath__, __getattr__) that drops other references to them: callers hold both.
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
    builder.with_additional_argument(key, utf8(value, "additional argument value"));
  } else {
    builder.with_additional_argument(key, to_value(value));
  }
}

void PyBuilder::apply_additional_data(bool reused) {
  if (!additional_data) return;
  const py::object data = std::move(additional_data);
  additional_data = py::object();
  for (const auto& key : data_keys) builder.without_additional_argument(key);
  data_keys.clear();
  if (PyDict_Check(data.ptr())) {
    if (PyDict_GET_SIZE(data.ptr()) == 0) builder.with_additional_data(messaging::Value::Map{});
    if (reused) data_keys.reserve(static_cast<std::size_t>(PyDict_GET_SIZE(data.ptr())));
    for_each_entry(data, "the additional data dict", [&](py::handle key, py::handle value) {
      const auto name = utf8(key, "additional data key");
      set_argument(builder, name, value);
      if (reused) data_keys.emplace_back(name);
    });
  } else {
    set_argument(builder, "additional_data", data);
    if (reused) data_keys.emplace_back("additional_data");
  }
}

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
void apply_trace_context(PyBuilder& self, py::handle traceparent) {
  try {
    self.builder.with_trace_context(utf8(traceparent, "traceparent"));
  } catch (const std::invalid_argument& error) {
    throw py::value_error(error.what());
  }
}
void apply_id(PyBuilder& self, py::handle id) {
  auto parsed = messaging::MessageId::from_string(utf8(id, "id"));
  if (!parsed) throw py::value_error("not a message id: " + std::string(py::str(id)));
  self.builder.with_id(*parsed);
}
void apply_timestamp(PyBuilder& self, py::handle unix_ns) {
  // An int only: a float would lose nanoseconds, and True is not a time.
  if (!PyLong_Check(unix_ns.ptr()) || PyBool_Check(unix_ns.ptr())) {
    throw py::type_error("unix_ns must be an int (ns since the Unix epoch), not " +
                         std::string(Py_TYPE(unix_ns.ptr())->tp_name));
  }
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(unix_ns.ptr(), &overflow);
  if (value == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
  if (overflow != 0) throw py::value_error("unix_ns must fit in 64 bits");
  self.builder.with_timestamp(static_cast<std::int64_t>(value));
}

template <void (*Apply)(PyBuilder&, py::handle)>
PyObject* with_method(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                      const char* arg, const char* name) {
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

PyObject* builder_build(PyObject* self, PyObject* /*unused*/) {
  return guarded([&]() -> PyObject* {
    auto* builder = cpp_self<PyBuilder>(self);
    if (builder == nullptr) return nullptr;
    try {
      builder->apply_additional_data();
    } catch (...) {
      builder->clear();  // no half-written message is left for the next build()
      throw;
    }
    return wrap_new(builder->builder.build());
  });
}

// MessageBuilder.build_message(**fields): the whole chain in one C++ call. Each keyword is
// a with_* method's name without "with_"; each value goes through that method's own code.
struct KeywordField {
  const char* name;
  void (*apply)(PyBuilder&, py::handle);
};

constexpr KeywordField keyword_fields[] = {
    {"msg_type", apply_msg_type},
    {"topic", apply_topic},
    {"creator", apply_creator},
    {"creator_type", apply_creator_type},
    {"stage", apply_stage},
    {"next_task", apply_next_task},
    {"user_msg", apply_user_msg},
    {"retries", apply_retries},
    {"output", apply_output},
    {"recipient", apply_recipient},
    {"additional_data", apply_additional_data},
    {"key", apply_key},
    {"trace_context", apply_trace_context},
    {"id", apply_id},
    {"timestamp", apply_timestamp},
};
constexpr std::size_t kKeywordCount = std::size(keyword_fields);

// Keyword names at a call site are interned strs: a pointer comparison finds them; any
// other str with equal text is found by comparing the text.
const KeywordField* find_keyword(PyObject* name) {
  static const auto interned = [] {
    std::array<PyObject*, kKeywordCount> names{};
    for (std::size_t i = 0; i < kKeywordCount; ++i) {
      names[i] = PyUnicode_InternFromString(keyword_fields[i].name);  // kept for the process
      if (names[i] == nullptr) throw py::error_already_set();
    }
    return names;
  }();
  for (std::size_t i = 0; i < kKeywordCount; ++i) {
    if (interned[i] == name) return &keyword_fields[i];
  }
  for (std::size_t i = 0; i < kKeywordCount; ++i) {
    if (PyUnicode_CompareWithASCIIString(name, keyword_fields[i].name) == 0) {
      return &keyword_fields[i];
    }
  }
  return nullptr;
}

PyObject* build_message(PyObject* /*unused*/, PyObject* const* args, Py_ssize_t nargs,
                        PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    if (nargs != 0) {
      throw py::type_error("build_message() takes keyword arguments only (" +
                           std::to_string(nargs) + " positional given)");
    }
    PyBuilder builder;
    const Py_ssize_t count = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < count; ++k) {
      PyObject* name = PyTuple_GET_ITEM(kwnames, k);
      const KeywordField* field = find_keyword(name);
      if (field == nullptr) {
        PyErr_Format(PyExc_TypeError, "build_message() got an unexpected keyword argument '%U'",
                     name);
        return nullptr;
      }
      field->apply(builder, args[k]);
    }
    builder.apply_additional_data(/*reused=*/false);
    return wrap_new(builder.builder.build());
  });
}

PyMethodDef build_message_method{
    "build_message", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&build_message)),
    METH_FASTCALL | METH_KEYWORDS,
    "build_message(**fields) -> MLOpsMessage\n\n"
    "The message MessageBuilder().with_<name>(value)...build() makes, in one call: each "
    "keyword is a with_* method's name without \"with_\" (msg_type, topic, creator, "
    "creator_type, stage, next_task, user_msg, retries, output, recipient, additional_data, "
    "key, trace_context, id, timestamp) and takes what that method takes, raising what it "
    "raises. Keywords only; an unknown one raises TypeError."};

// MessageBuilder() is made once per message by the original's idiom: a direct __init__
// instead of pybind11's constructor dispatch, doing what that dispatch does (construct the
// value, then let pybind11 construct the holder and register the instance).
PyObject* builder_init(PyObject* self, PyObject* const* /*args*/, Py_ssize_t nargs,
                       PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    if (nargs != 0 || (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) != 0)) {
      throw py::type_error("MessageBuilder() takes no arguments");
    }
    auto* instance = reinterpret_cast<py::detail::instance*>(self);
    static py::detail::type_info* const type = py::detail::get_type_info(typeid(PyBuilder));
    if (instance->get_value_and_holder(type).holder_constructed()) {
      throw py::type_error("MessageBuilder is already initialised");
    }
    // Unlisted in pybind11's instance table (fast_call.h): every method that returns the
    // builder is a raw descriptor returning `self`, none a pybind11 reference cast.
    adopt(type, self, new PyBuilder());
    Py_RETURN_NONE;
  });
}

// with_additional_argument(key, value) and with_additional_arguments(arguments): raw
// descriptors returning `self`, as the with_* methods are (pybind11's reference cast of the
// returned builder would need the instance table the builder is left out of).
PyObject* with_additional_argument(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                                   PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    static const char* const names[] = {"key", "value"};
    PyObject* given[2] = {nullptr, nullptr};
    if (!parse_arguments(args, nargs, kwnames, names, given, "with_additional_argument")) {
      return nullptr;
    }
    if (given[0] == nullptr || given[1] == nullptr) {
      throw py::type_error("with_additional_argument() needs key and value");
    }
    auto* builder = cpp_self<PyBuilder>(self);
    if (builder == nullptr) return nullptr;
    set_argument(builder->builder, utf8(given[0], "key"), given[1]);
    Py_INCREF(self);
    return self;
  });
}

PyObject* with_additional_arguments(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                                    PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* arguments =
        single_argument(args, nargs, kwnames, "arguments", "with_additional_arguments");
    if (arguments == nullptr) return nullptr;
    if (!PyDict_Check(arguments)) {
      throw py::type_error("with_additional_arguments() needs a dict, not " +
                           std::string(Py_TYPE(arguments)->tp_name));
    }
    auto* builder = cpp_self<PyBuilder>(self);
    if (builder == nullptr) return nullptr;
    const auto held = py::reinterpret_borrow<py::object>(arguments);
    for_each_entry(held, "the arguments dict", [&](py::handle key, py::handle value) {
      set_argument(builder->builder, utf8(key, "key"), value);
    });
    Py_INCREF(self);
    return self;
  });
}

PyMethodDef builder_methods[] = {
    PyMethodDef{
        "with_additional_argument",
        reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&with_additional_argument)),
        METH_FASTCALL | METH_KEYWORDS,
        "with_additional_argument(key, value)\n\nSets one additional argument."},
    PyMethodDef{
        "with_additional_arguments",
        reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&with_additional_arguments)),
        METH_FASTCALL | METH_KEYWORDS,
        "with_additional_arguments(arguments)\n\nSets every entry of a dict as an "
        "additional argument."},
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
    MLOPS_WITH(with_trace_context, "traceparent", apply_trace_context,
               "The W3C traceparent of the pipeline run (00-<trace id>-<span id>-<flags>); "
               "\"\" removes it. Raises ValueError naming the problem for invalid text."),
    MLOPS_WITH(with_id, "id", apply_id,
               "An explicit id (canonical UUID text) instead of a fresh one."),
    MLOPS_WITH(with_timestamp, "unix_ns", apply_timestamp,
               "An explicit creation time, ns since the Unix epoch."),
    PyMethodDef{"build", builder_build, METH_NOARGS,
                "The immutable message. The builder keeps its fields (as the original's did): "
                "change one and build() again; reset() goes back to the defaults."},
};
#undef MLOPS_WITH

}  // namespace

void bind_builder(py::module_& m) {
  py::class_<PyBuilder> cls(m, "MessageBuilder", R"doc(
Builds an immutable MLOpsMessage. Defaults: msg_type OTHER, creator_type "unknown",
retries 0, everything else unset. Every with_* returns the builder; a later call for a
field overwrites the earlier one. build() returns the message; the builder keeps its fields
(each message gets a fresh id and timestamp), so one builder makes several messages that
differ in one field. reset() goes back to the defaults.)doc");
  using Self = PyBuilder&;
  cls.def(
         "reset", [](Self self) { self.clear(); },
         "Drops every field set so far, back to the defaults.")
      .def_static(
          "from_message",
          [](const MLOpsMessage& message) {
            return PyBuilder{MessageBuilder::from_message(message), py::object(), {}};
          },
          py::arg("message"), "A builder holding every field of message (new id and timestamp).")
      .def_static(
          "child_of",
          [](const MLOpsMessage& parent) {
            return PyBuilder{MessageBuilder::child_of(parent), py::object(), {}};
          },
          py::arg("parent"),
          "A builder whose message continues parent's trace (its trace id, a new span id); "
          "a parent without a trace context starts a fresh trace.");
  for (auto& method : builder_methods) install(cls, method);
  install_static(cls, build_message_method);
  cls.attr("__module__") = "mlops.messaging";
}

}  // namespace mlops::python
