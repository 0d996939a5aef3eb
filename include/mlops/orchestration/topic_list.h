#pragma once
/// \file TopicList: one topic or several, as the original's `topic` arguments took either.

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/export.h"

namespace mlops::orchestration {

/// The longest topic name accepted (Kafka's limit).
inline constexpr std::size_t kMaxTopicNameLength = 249;

/// True when `name` matches ^[A-Za-z0-9._-]{1,249}$ (checked without std::regex) and is
/// not "." or ".." (Kafka's rule; on mmap they would name directories).
[[nodiscard]] MLOPS_EXPORT bool is_valid_topic_name(std::string_view name) noexcept;

/// One topic, a list of topics, or none: what Producer, Consumer and subscribe() take.
///
///   Producer::create(orch, "etl-done");               // one topic
///   consumer.subscribe({"etl-done", "train-done"});    // a list
///
/// Thread-safety: a plain value type.
class MLOPS_EXPORT TopicList {
 public:
  /// No topic.
  TopicList() = default;
  /// One topic.
  TopicList(std::string_view topic) : names_{std::string(topic)} {}  // NOLINT(implicit)
  /// One topic.
  TopicList(const char* topic) : TopicList(std::string_view(topic)) {}  // NOLINT(implicit)
  /// One topic.
  TopicList(const std::string& topic) : TopicList(std::string_view(topic)) {}  // NOLINT(implicit)
  /// Several topics.
  TopicList(std::initializer_list<std::string_view> topics)  // NOLINT(implicit)
      : names_(topics.begin(), topics.end()) {}
  /// Several topics.
  TopicList(std::vector<std::string> topics) : names_(std::move(topics)) {}  // NOLINT(implicit)
  /// Several topics from any range of strings.
  template <std::ranges::input_range R>
  requires std::convertible_to<std::ranges::range_reference_t<R>, std::string_view> &&
      (!std::convertible_to<const R&, std::string_view>)
          TopicList(const R& topics) {  // NOLINT(implicit)
    for (const auto& topic : topics) names_.emplace_back(std::string_view(topic));
  }

  /// The topic names, in the order given.
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }
  /// True when no topic was given.
  [[nodiscard]] bool empty() const noexcept { return names_.empty(); }
  /// The first name that is not a valid topic name, or nullptr when all are valid.
  [[nodiscard]] const std::string* first_invalid() const noexcept;

 private:
  std::vector<std::string> names_;
};

}  // namespace mlops::orchestration
