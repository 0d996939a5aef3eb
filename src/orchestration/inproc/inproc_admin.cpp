#include "orchestration/inproc/inproc_admin.h"

namespace mlops::orchestration::detail::inproc {

Result<void> InprocAdmin::validate_connection(Deadline) { return {}; }

Result<std::vector<std::string>> InprocAdmin::topics() { return broker_.topic_names(); }

Result<void> InprocAdmin::create_topic(std::string_view name, const TopicOptions& options) {
  return broker_.create_topic(name, options);
}

}  // namespace mlops::orchestration::detail::inproc
