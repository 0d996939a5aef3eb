#pragma once
/// \file Python arguments of mlops.orchestration as C++ values. Bad input raises a TypeError
/// (wrong type) or a ValueError (wrong value) that names the argument.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "binding.h"
#include "core_casters.h"
#include "mlops/orchestration/consumer_options.h"
#include "mlops/orchestration/producer_options.h"
#include "mlops/orchestration/topic_list.h"

namespace mlops::python {

/// An Orchestration, a URI str (Orchestration.from_uri) or None (Orchestration.detect()).
orchestration::Orchestration resolve_orchestration(py::handle value, const char* what);

/// None (no topics), one str, or an iterable of str (not a dict, str or bytes inside).
orchestration::TopicList topic_list(py::handle value, const char* what);

/// A number of milliseconds (int or float, not bool), at least 0; float('inf') or anything
/// past ~100 years means no limit (clamped to orchestration::detail::kMaxTimeout).
std::chrono::milliseconds to_ms(py::handle value, const char* what);

/// A count of at least `minimum` (int, not bool); a larger one than `maximum` is `maximum`.
std::size_t to_count(py::handle value, const char* what, std::size_t minimum = 1,
                     std::size_t maximum = SIZE_MAX);

/// The most messages one receive() asks a backend for. Backends reserve room for a whole
/// batch up front (so that steady-state receives allocate nothing): a huge max_records would
/// be a huge allocation, or a failed one. A batch is "at most" that many anyway.
inline constexpr std::size_t kMaxBatch = 65536;

/// A backend option's text: True/False as "true"/"false", a list or tuple as its items'
/// texts joined with "," (kInvalidArgument for None or a nested container among them),
/// anything else as str().
std::string option_text(py::handle value);

/// Producer keyword options; backend options pass through as text. None means "not given".
orchestration::ProducerOptions producer_options(const py::kwargs& kwargs);

/// Consumer keyword options; backend options pass through as text. None means "not given".
orchestration::ConsumerOptions consumer_options(const py::kwargs& kwargs);

}  // namespace mlops::python
