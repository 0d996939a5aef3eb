#pragma once
/// \file The exceptions of mlops.orchestration and how a Result or Status becomes one.

#include <string>

#include "binding.h"
#include "mlops/orchestration/status.h"

namespace mlops::python {

/// The exception classes (made by make_orchestration_errors, kept for the process).
struct OrchestrationErrors {
  PyObject* base = nullptr;              ///< OrchestrationError (RuntimeError)
  PyObject* invalid_argument = nullptr;  ///< InvalidArgumentError (also ValueError)
  PyObject* back_pressure = nullptr;     ///< BackPressureError
  PyObject* timeout = nullptr;           ///< OrchestrationTimeoutError (also TimeoutError)
  PyObject* closed = nullptr;            ///< ClosedError
};
extern OrchestrationErrors orchestration_errors;

/// Makes the exception classes in `m`.
void make_orchestration_errors(py::module_& m);

/// Raises the exception for a failed setup call (kInvalidArgument: InvalidArgumentError,
/// kTimeout: OrchestrationTimeoutError, else OrchestrationError), after queued log lines.
[[noreturn]] void raise_result(const Error& error);

/// The value of `result`, or its exception; queued log lines go to Python first.
template <typename T>
T value_or_raise(Result<T> result) {
  drain_logs();
  if (!result) raise_result(result.error());
  return std::move(result).value();
}

/// Raises the exception of a failed `result`; queued log lines go to Python first.
void check(const Result<void>& result);

/// Raises the exception for a failed hot-path call `what`. On send, a timeout means "no room
/// within send_timeout" (BackPressureError); elsewhere it is OrchestrationTimeoutError.
[[noreturn]] void raise_status(orchestration::Status status, const std::string& what, bool sending);

/// Raises InvalidArgumentError (a ValueError) saying `message`.
[[noreturn]] void raise_invalid_argument(const std::string& message);

}  // namespace mlops::python
