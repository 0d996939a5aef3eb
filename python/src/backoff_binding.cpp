// mlops.orchestration.Backoff: the C++ Backoff (exponential, capped, with jitter), so that
// Python's retry computes its delays exactly as C++ does.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>

#include "binding.h"
#include "mlops/orchestration/backoff.h"

namespace mlops::python {

using orchestration::Backoff;

void bind_backoff(py::module_& m) {
  using std::chrono::milliseconds;
  py::class_<Backoff> cls(m, "Backoff",
                          "Exponential backoff with jitter for Consumer.retry: retry n (0 for a "
                          "message never retried) waits initial_ms * multiplier**n, at most "
                          "max_ms, then spread by +-jitter (0.2: up to 20% shorter or longer).\n\n"
                          "    con.retry(msg, orc.Backoff(initial_ms=1000, multiplier=2, "
                          "max_ms=300000, jitter=0.2), reason=\"GPU preempted\")");
  cls.def(py::init(
              [](std::int64_t initial_ms, double multiplier, std::int64_t max_ms, double jitter) {
                return Backoff{.initial = milliseconds(initial_ms),
                               .multiplier = multiplier,
                               .max = milliseconds(max_ms),
                               .jitter = jitter};
              }),
          py::arg("initial_ms") = 1000, py::arg("multiplier") = 2.0, py::arg("max_ms") = 300'000,
          py::arg("jitter") = 0.2,
          "multiplier below 1 counts as 1; jitter is clamped to [0, 1]; negative times count as 0.")
      .def_property(
          "initial_ms", [](const Backoff& b) { return b.initial.count(); },
          [](Backoff& b, std::int64_t ms) { b.initial = milliseconds(ms); })
      .def_readwrite("multiplier", &Backoff::multiplier)
      .def_property(
          "max_ms", [](const Backoff& b) { return b.max.count(); },
          [](Backoff& b, std::int64_t ms) { b.max = milliseconds(ms); })
      .def_readwrite("jitter", &Backoff::jitter)
      .def(
          "delay_for",
          [](const Backoff& b, std::int64_t retries) {
            // Past int32 (the retries field's type) the delay is the capped one anyway.
            const auto clamped =
                static_cast<std::int32_t>(std::clamp<std::int64_t>(retries, INT32_MIN, INT32_MAX));
            return b.delay_for(clamped).count();
          },
          py::arg("retries"),
          "The delay in ms for a message retried `retries` times so far (never negative).")
      .def("__repr__", [](const Backoff& b) {
        return "Backoff(initial_ms=" + std::to_string(b.initial.count()) +
               ", multiplier=" + std::to_string(b.multiplier) +
               ", max_ms=" + std::to_string(b.max.count()) +
               ", jitter=" + std::to_string(b.jitter) + ")";
      });
  cls.attr("__module__") = "mlops.orchestration";
}

}  // namespace mlops::python
