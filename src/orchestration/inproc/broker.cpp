#include "orchestration/inproc/broker.h"

#include <limits>

#include "mlops/log.h"
#include "mlops/orchestration/topic_list.h"
#include "orchestration/option_reader.h"
#include "orchestration/uri.h"

namespace mlops::orchestration::detail::inproc {
namespace {

Error too_many_messages(std::size_t requested) {
  return Error{ErrorCode::kInvalidArgument, "inproc max_messages " + std::to_string(requested) +
                                                " exceeds the limit of " +
                                                std::to_string(kMaxTopicMessages)};
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<Broker>, std::less<>> brokers;
};

Registry& registry() {
  // Never destroyed: threads may still use a broker while static objects are torn down.
  static auto* registry = new Registry;
  return *registry;
}

}  // namespace

Result<Broker*> Broker::open(std::string_view name, const BackendOptions& options) {
  if (!is_valid_topic_name(name)) {
    return Error{ErrorCode::kInvalidArgument,
                 "inproc broker name " + quote_text(name) +
                     " must match ^[A-Za-z0-9._-]{1,249}$, as in 'inproc://pipeline'"};
  }
  OptionReader reader("inproc broker", options);
  auto max_messages = reader.number("max_messages", 1, kMaxTopicMessages, kDefaultMaxMessages);
  if (!max_messages) return max_messages.error();
  auto max_bytes =
      reader.number("max_bytes", 1, std::numeric_limits<std::size_t>::max(), kDefaultMaxBytes);
  if (!max_bytes) return max_bytes.error();
  reader.warn_unread();

  auto& reg = registry();
  const std::lock_guard lock(reg.mutex);
  auto it = reg.brokers.find(name);
  if (it == reg.brokers.end()) {
    it = reg.brokers
             .emplace(std::string(name), std::make_unique<Broker>(
                                             std::string(name), Limits{*max_messages, *max_bytes}))
             .first;
  }
  return it->second.get();
}

Topic& Broker::topic(std::string_view name) {
  const std::lock_guard lock(mutex_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(name), std::make_unique<Topic>(std::string(name), defaults_))
             .first;
  }
  return *it->second;
}

Result<void> Broker::create_topic(std::string_view name, const TopicOptions& options) {
  if (options.max_messages > kMaxTopicMessages) return too_many_messages(options.max_messages);
  warn_ignored_options("topic", options.backend);
  const Limits limits{options.max_messages ? options.max_messages : defaults_.max_messages,
                      options.max_bytes ? options.max_bytes : defaults_.max_bytes};
  const std::lock_guard lock(mutex_);
  if (!topics_.contains(name)) {
    topics_.emplace(std::string(name), std::make_unique<Topic>(std::string(name), limits));
  }
  return {};
}

std::vector<std::string> Broker::topic_names() const {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  names.reserve(topics_.size());
  for (const auto& [name, topic] : topics_) names.push_back(name);
  return names;
}

void warn_ignored_options(std::string_view role, const BackendOptions& options) {
  OptionReader("inproc " + std::string(role), options).warn_unread();
}

}  // namespace mlops::orchestration::detail::inproc
