#pragma once
/// \file Python objects <-> additional-argument values (Value, ValueView).

#include "binding.h"
#include "mlops/messaging/value.h"
#include "mlops/messaging/value_view.h"

namespace mlops::python {

/// A JSON-like Python value as a Value: None, bool, int (64-bit), float, str, bytes-like,
/// os.PathLike (as its text), list/tuple, dict with str keys. Anything else: TypeError;
/// an int outside 64 bits: OverflowError; nesting past the message's limit: ValueError.
messaging::Value to_value(py::handle object);

/// A value read in place, as a new Python object (dict, list, str, int, float, ...).
py::object from_view(const messaging::ValueView& view);

}  // namespace mlops::python
