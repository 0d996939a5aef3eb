// Python arguments of mlops.orchestration as C++ values, with errors that name the argument.
#include "orchestration_arguments.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "orchestration/deadline.h"
#include "orchestration_errors.h"

namespace mlops::python {
namespace {

using orchestration::detail::kMaxTimeout;
using std::chrono::milliseconds;

std::string type_name(py::handle value) { return Py_TYPE(value.ptr())->tp_name; }

bool is_int(py::handle value) {
  return PyLong_Check(value.ptr()) != 0 && PyBool_Check(value.ptr()) == 0;
}

}  // namespace

orchestration::Orchestration resolve_orchestration(py::handle value, const char* what) {
  if (value.is_none()) return value_or_raise(orchestration::Orchestration::detect());
  if (PyUnicode_Check(value.ptr())) {
    return value_or_raise(orchestration::Orchestration::from_uri(utf8(value, what)));
  }
  if (py::isinstance<orchestration::Orchestration>(value)) {
    return value.cast<const orchestration::Orchestration&>();
  }
  throw py::type_error(std::string(what) + " must be an Orchestration, a URI str or None, not " +
                       type_name(value));
}

orchestration::TopicList topic_list(py::handle value, const char* what) {
  if (value.is_none()) return {};
  if (PyUnicode_Check(value.ptr())) return orchestration::TopicList(utf8(value, what));
  const auto refuse = [&](const std::string& got) {
    throw py::type_error(std::string(what) + " must be a str, a list of str or None, not " + got);
  };
  // A dict iterates over its keys and bytes over ints: both are mistakes, not topic lists.
  if (PyDict_Check(value.ptr()) || PyBytes_Check(value.ptr()) || PyByteArray_Check(value.ptr())) {
    refuse(type_name(value));
  }
  const auto iterator = py::reinterpret_steal<py::object>(PyObject_GetIter(value.ptr()));
  if (!iterator) {
    PyErr_Clear();
    refuse(type_name(value));
  }
  std::vector<std::string> names;
  while (const auto topic = py::reinterpret_steal<py::object>(PyIter_Next(iterator.ptr()))) {
    if (!PyUnicode_Check(topic.ptr())) refuse("a list holding " + type_name(topic));
    names.emplace_back(utf8(topic, what));
  }
  if (PyErr_Occurred() != nullptr) throw py::error_already_set();
  return orchestration::TopicList(std::move(names));
}

milliseconds to_ms(py::handle value, const char* what) {
  if (is_int(value)) {
    int overflow = 0;
    const long long ms = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (ms == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
    if (overflow > 0) return kMaxTimeout;  // past 64 bits: no limit
    if (overflow < 0 || ms < 0) raise_invalid_argument(std::string(what) + " must not be negative");
    if (ms > kMaxTimeout.count()) return kMaxTimeout;
    return milliseconds(ms);
  }
  if (PyFloat_Check(value.ptr())) {
    const double ms = PyFloat_AS_DOUBLE(value.ptr());
    if (std::isnan(ms)) raise_invalid_argument(std::string(what) + " must be a number, not nan");
    if (ms < 0) raise_invalid_argument(std::string(what) + " must not be negative");
    // Compared as doubles first: casting inf, or anything past int64, is undefined behaviour.
    if (ms >= static_cast<double>(kMaxTimeout.count())) return kMaxTimeout;
    return milliseconds(static_cast<milliseconds::rep>(std::ceil(ms)));
  }
  throw py::type_error(std::string(what) +
                       " must be a number of milliseconds (int or float), not " + type_name(value));
}

std::size_t to_count(py::handle value, const char* what, std::size_t minimum, std::size_t maximum) {
  if (!is_int(value)) {
    throw py::type_error(std::string(what) + " must be an int, not " + type_name(value));
  }
  int overflow = 0;
  const long long count = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (count == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
  if (overflow < 0 || (overflow == 0 && (count < 0 || static_cast<std::size_t>(count) < minimum))) {
    raise_invalid_argument(std::string(what) + " must be at least " + std::to_string(minimum));
  }
  if (overflow > 0) return maximum;
  return std::min(static_cast<std::size_t>(count), maximum);
}

std::string option_text(py::handle value) {
  if (PyBool_Check(value.ptr())) return value.ptr() == Py_True ? "true" : "false";
  // kafka-python's lists (bootstrap_servers=["h1:9092", "h2:9092"],
  // partition_assignment_strategy=[...]) are librdkafka's comma-separated lists.
  if (PyList_Check(value.ptr()) || PyTuple_Check(value.ptr())) {
    std::string joined;
    bool first = true;
    for (const auto item : value) {
      if (item.is_none() || PyList_Check(item.ptr()) || PyTuple_Check(item.ptr()) ||
          PyDict_Check(item.ptr())) {
        raise_invalid_argument("an option's list holds " + std::string(py::str(py::repr(item))) +
                               ": only strings, numbers and booleans join into one");
      }
      if (!first) joined += ',';
      joined += option_text(item);
      first = false;
    }
    return joined;
  }
  return py::str(value);
}

orchestration::ProducerOptions producer_options(const py::kwargs& kwargs) {
  orchestration::ProducerOptions options;
  for (const auto& [key_object, value] : kwargs) {
    const std::string key = py::str(key_object);
    if (value.is_none()) continue;
    if (key == "back_pressure") {
      const std::string policy = py::str(value);
      if (policy == "block") {
        options.back_pressure = orchestration::BackPressure::kBlock;
      } else if (policy == "return") {
        options.back_pressure = orchestration::BackPressure::kReturn;
      } else {
        raise_invalid_argument("back_pressure must be 'block' or 'return', not '" + policy + "'");
      }
    } else if (key == "send_timeout_ms" || key == "max_block_ms") {
      options.send_timeout = to_ms(value, key.c_str());
    } else if (key == "flush_timeout_ms") {
      options.flush_timeout = to_ms(value, key.c_str());
    } else {
      options.backend.insert_or_assign(key, option_text(value));
    }
  }
  return options;
}

orchestration::ConsumerOptions consumer_options(const py::kwargs& kwargs) {
  orchestration::ConsumerOptions options;
  for (const auto& [key_object, value] : kwargs) {
    const std::string key = py::str(key_object);
    if (value.is_none()) continue;
    if (key == "group" || key == "group_id") {
      options.group = utf8(value, key.c_str());
    } else if (key == "auto_offset_reset" || key == "offset_reset") {
      const std::string reset = py::str(value);
      if (reset == "earliest" || reset == "smallest" || reset == "beginning") {
        options.offset_reset = orchestration::OffsetReset::kEarliest;
      } else if (reset == "latest" || reset == "largest" || reset == "end") {
        options.offset_reset = orchestration::OffsetReset::kLatest;
      } else {
        raise_invalid_argument("auto_offset_reset must be 'earliest' or 'latest', not '" + reset +
                               "'");
      }
    } else if (key == "max_poll_records" || key == "max_batch") {
      options.max_batch = to_count(value, key.c_str(), 1, kMaxBatch);
    } else if (key == "enable_auto_commit" || key == "auto_commit") {
      const int truth = PyObject_IsTrue(value.ptr());
      if (truth < 0) throw py::error_already_set();
      options.auto_commit = truth == 1;
    } else if (key == "max_retries") {
      options.max_retries = static_cast<std::int32_t>(to_count(value, "max_retries", 0, 1'000'000));
    } else if (key == "dead_letter_corrupt") {
      const int truth = PyObject_IsTrue(value.ptr());
      if (truth < 0) throw py::error_already_set();
      options.dead_letter_corrupt = truth == 1;
    } else {
      options.backend.insert_or_assign(key, option_text(value));
    }
  }
  return options;
}

}  // namespace mlops::python
