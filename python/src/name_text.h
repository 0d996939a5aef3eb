#pragma once
/// \file Text for names that recur from message to message (additional-argument keys, topics,
/// creators, tasks): one interned str per name, from a small cache, instead of a new str
/// decoded per read. An interned key is also the very object a literal `d["epochs"]` in
/// Python code looks up, so the dict lookup compares pointers.

#include <string_view>

#include "binding.h"

namespace mlops::python {

/// The str for `value`, as text() gives it; short ASCII text comes from the cache (the same
/// object each time, interned). Needs the GIL.
py::object name_text(std::string_view value);

}  // namespace mlops::python
