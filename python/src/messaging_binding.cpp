// mlops.messaging: the enums, MLOpsMessage, MessageBuilder and normalize_creator_type.
#include "binding.h"
#include "messaging_enums.h"
#include "mlops/messaging/enums.h"

namespace mlops::python {

void bind_messaging(py::module_& m) {
  bind_enums(m);
  m.def(
      "normalize_creator_type",
      [](py::handle text_value) {
        const auto type = messaging::normalize_creator_type(utf8(text_value, "creator_type"));
        drain_logs();
        return creator_type_text(type);
      },
      py::arg("creator_type"),
      "The canonical creator type for free-form text (\"ETL\" -> \"mlops\").");
  bind_message(m);
  bind_builder(m);
}

}  // namespace mlops::python
