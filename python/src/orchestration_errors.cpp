// The exceptions of mlops.orchestration: one class per way a call fails.
#include "orchestration_errors.h"

namespace mlops::python {

using orchestration::Status;

OrchestrationErrors orchestration_errors;

void make_orchestration_errors(py::module_& m) {
  auto& e = orchestration_errors;
  e.base = make_exception(m, "OrchestrationError", PyExc_RuntimeError,
                          "A backend or orchestration call failed; `code` (setup) or `status` "
                          "(send, receive, ...) names how.");
  const auto pair = [](PyObject* a, PyObject* b) {
    return py::make_tuple(py::handle(a), py::handle(b));
  };
  e.invalid_argument =
      make_exception(m, "InvalidArgumentError", pair(e.base, PyExc_ValueError).ptr(),
                     "A malformed URI, topic name or option.");
  e.back_pressure = make_exception(m, "BackPressureError", e.base,
                                   "A topic stayed full: the message was not sent.");
  e.timeout = make_exception(m, "OrchestrationTimeoutError", pair(e.base, PyExc_TimeoutError).ptr(),
                             "A wait reached its deadline.");
  e.closed = make_exception(m, "ClosedError", e.base, "The producer or consumer was closed.");
}

void raise_result(const Error& error) {
  PyObject* type = orchestration_errors.base;
  if (error.code == ErrorCode::kInvalidArgument) type = orchestration_errors.invalid_argument;
  if (error.code == ErrorCode::kTimeout) type = orchestration_errors.timeout;
  raise_error(type, error.message, to_string(error.code), "");
}

void check(const Result<void>& result) {
  drain_logs();
  if (!result) raise_result(result.error());
}

void raise_status(Status status, const std::string& what, bool sending) {
  PyObject* type = orchestration_errors.base;
  switch (status) {
    case Status::kBackPressured: type = orchestration_errors.back_pressure; break;
    case Status::kTimeout:
      type = sending ? orchestration_errors.back_pressure : orchestration_errors.timeout;
      break;
    case Status::kClosed: type = orchestration_errors.closed; break;
    case Status::kInvalidTopic:
    case Status::kNoTopic: type = orchestration_errors.invalid_argument; break;
    default: break;
  }
  std::string message = what + ": " + std::string(to_string(status));
  if (status == Status::kInvalidTopic) message += " (topic names match ^[A-Za-z0-9._-]{1,249}$)";
  if (sending && (status == Status::kTimeout || status == Status::kBackPressured)) {
    message += " (a topic stayed full; the message was not sent)";
  }
  if (status == Status::kNoTopic)
    message += " (neither the message nor the producer names a topic)";
  if (status == Status::kDeliveryUnknown) {
    message +=
        " (sent, but not confirmed within flush_timeout: it may still arrive, so sending "
        "it again may duplicate it)";
  }
  if (const auto detail = last_log(); !detail.empty()) message += ": " + detail;
  raise_error(type, message, "", to_string(status));
}

void raise_invalid_argument(const std::string& message) {
  raise_error(orchestration_errors.invalid_argument, message, "invalid_argument", "");
}

}  // namespace mlops::python
