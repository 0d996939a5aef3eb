#include "mlops/orchestration/topic_list.h"

namespace mlops::orchestration {

bool is_valid_topic_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxTopicNameLength) return false;
  if (name == "." || name == "..") return false;  // directory names on mmap; Kafka refuses them
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const std::string* TopicList::first_invalid() const noexcept {
  for (const auto& name : names_) {
    if (!is_valid_topic_name(name)) return &name;
  }
  return nullptr;
}

}  // namespace mlops::orchestration
