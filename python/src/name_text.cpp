// A direct-mapped cache of interned strs for recurring names (see name_text.h).
#include "name_text.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mlops::python {
namespace {

// Names are short; longer text (and any non-ASCII) is decoded each time, never cached, so
// the cache holds at most kSlots * kLongest bytes of text however many names pass through.
constexpr std::size_t kSlots = 256;
constexpr std::size_t kLongest = 40;

// Each slot holds a reference for the life of the process (or until a colliding name
// replaces it). The GIL guards the table: every caller holds it.
std::array<PyObject*, kSlots> g_slots{};

std::size_t slot_of(std::string_view value) noexcept {
  std::uint32_t hash = 2166136261U;  // FNV-1a
  for (const char c : value) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619U;
  return hash % kSlots;
}

bool holds(PyObject* cached, std::string_view value) noexcept {
  // Only compact ASCII strs are stored: their characters are their UTF-8 bytes. An empty
  // name may have no data at all (a map key a foreign writer left out): memcmp must not see
  // its null pointer, even for no bytes.
  return static_cast<std::size_t>(PyUnicode_GET_LENGTH(cached)) == value.size() &&
         (value.empty() || std::memcmp(PyUnicode_DATA(cached), value.data(), value.size()) == 0);
}

}  // namespace

py::object name_text(std::string_view value) {
  if (value.size() > kLongest) return text(value);
  PyObject*& slot = g_slots[slot_of(value)];
  if (slot != nullptr && holds(slot, value)) return py::reinterpret_borrow<py::object>(slot);
  py::str fresh = text(value);
  if (!PyUnicode_IS_COMPACT_ASCII(fresh.ptr())) return fresh;
  PyObject* interned = fresh.release().ptr();
  PyUnicode_InternInPlace(&interned);  // may swap in the interpreter's own object
  Py_XSETREF(slot, interned);
  return py::reinterpret_borrow<py::object>(slot);
}

}  // namespace mlops::python
