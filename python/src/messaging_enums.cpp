// MessageType, Stages and CreatorType as enum.Enum classes (see messaging_enums.h).
#include "messaging_enums.h"

#include <array>

namespace mlops::python {

EnumTable message_types;
EnumTable stages;
EnumTable creator_types;

namespace {

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

}  // namespace

void bind_enums(py::module_& m) {
  make_enum<messaging::MessageType, 6>(m, message_types, "MessageType",
                                       "What a message reports; each value's text is its name.");
  make_enum<messaging::Stage, 8>(
      m, stages, "Stages",
      "Where a piece of work stands in the pipeline; each value's text is its name.");
  m.attr("Stage") = m.attr("Stages");
  make_enum<messaging::CreatorType, 7>(
      m, creator_types, "CreatorType",
      "The canonical creator types; each value is the lower-case text.");
}

py::object member(const EnumTable& table, std::size_t index) {
  if (index >= table.members.size()) return py::none();  // from a newer writer
  return py::reinterpret_borrow<py::object>(table.members[index]);
}

py::object creator_type_text(messaging::CreatorType type) {
  static std::array<PyObject*, 7> cache{};  // interned canonical names, kept for the process
  const auto index = static_cast<std::size_t>(type);
  if (index >= cache.size()) return text(messaging::to_string(type));
  if (cache[index] == nullptr) cache[index] = text(messaging::to_string(type)).release().ptr();
  return py::reinterpret_borrow<py::object>(cache[index]);
}

}  // namespace mlops::python
