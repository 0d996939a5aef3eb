#pragma once
/// \file The enums of mlops.messaging as Python enum.Enum classes whose values are their names,
/// as in the original; they map to the C++ enums by position, which is the C++ enums' order.

#include <cstddef>
#include <string>
#include <vector>

#include "binding.h"
#include "mlops/messaging/enums.h"

namespace mlops::python {

/// A Python enum.Enum class and its members in the C++ enum's order (index = C++ value).
struct EnumTable {
  PyObject* cls = nullptr;
  std::vector<PyObject*> members;
};

extern EnumTable message_types;  ///< MessageType
extern EnumTable stages;         ///< Stages (alias Stage)
extern EnumTable creator_types;  ///< CreatorType

/// Makes MessageType, Stages (and Stage) and CreatorType in `m`.
void bind_enums(py::module_& m);

/// The C++ value of a member of `table`'s class or of its text ("START"); ValueError for
/// unknown text, TypeError for anything else, both naming `what`.
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

/// The member for C++ value `index`, or None for a value from a newer writer.
py::object member(const EnumTable& table, std::size_t index);

/// The canonical text of a creator type, as a cached str.
py::object creator_type_text(messaging::CreatorType type);

}  // namespace mlops::python
