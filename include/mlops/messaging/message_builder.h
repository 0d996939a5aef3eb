#pragma once
/// \file MessageBuilder: writes a message's fields straight into a FlatBuffers buffer.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "mlops/export.h"
#include "mlops/messaging/enums.h"
#include "mlops/messaging/message_id.h"
#include "mlops/messaging/mlops_message.h"
#include "mlops/messaging/value.h"
#include "mlops/result.h"

namespace mlops::messaging {

/// Anything a list field takes as one element: text or a filesystem path.
template <typename T>
concept TextLike = std::convertible_to<const T&, std::string_view> ||
    std::same_as<std::remove_cvref_t<T>, std::filesystem::path>;

/// A range of TextLike elements (a std::vector<std::string>, a span of paths, ...).
template <typename R>
concept TextRange = std::ranges::input_range<R> && TextLike<std::ranges::range_value_t<R>> &&
                    !std::convertible_to<const R&, std::string_view> &&
                    !std::same_as<std::remove_cvref_t<R>, std::filesystem::path>;

/// The deepest nesting of lists and maps an additional argument may have (FlexBuffers' limit).
inline constexpr std::size_t kMaxValueDepth = 63;

/// Builds an MLOpsMessage, writing each field into one FlatBuffers buffer as it is given.
/// Defaults are the original library's: msg_type OTHER, creator_type "unknown",
/// retries 0, everything else unset. Every with_* returns the builder for chaining;
/// a later call for the same field overwrites the earlier one, and the overwritten
/// value's bytes are wiped from the buffer (it may have been a secret).
///
///   auto msg = MessageBuilder()
///                  .with_msg_type(MessageType::START)
///                  .with_creator_type("ETL")
///                  .with_creator("ETL")
///                  .with_user_msg("Hello World")
///                  .with_next_task("Train")
///                  .build();
///
/// The builder keeps its fields, as the original's did: build() returns an owning message
/// and the builder goes on holding every field, so the next build() after changing one
/// field gives a message with every other field as before (each build() stamps a fresh id
/// and time unless with_id/with_timestamp is called again for it). build_view() is the
/// allocation-free form. For a zero-allocation loop, call reset() before each message:
/// an overwritten field's bytes stay (wiped) in the buffer until reset(), and a builder
/// that piles up more than 4 KiB of them copies its fields into a fresh buffer at the
/// next build (an allocation).
///
///   MessageBuilder builder;                       // hot loop: reset, set, send the view
///   for (const auto& job : jobs) {
///     builder.reset();
///     producer.send(builder.with_topic(job.topic).with_user_msg(job.text).build_view());
///   }
/// with_* throw only on misuse: std::length_error when a message would reach
/// 2 GiB, std::invalid_argument for a Value nested deeper than kMaxValueDepth or a map key
/// with a NUL character.
/// Thread-safety: none; use one builder per thread.
class MLOPS_EXPORT MessageBuilder {
 public:
  /// A builder with default fields and a 1 KiB buffer to start with. A builder made after
  /// another was dropped on the same thread takes over that one's memory instead (cleared),
  /// so a builder per message costs no allocation beyond build()'s.
  MessageBuilder();
  /// A builder whose buffer starts at `initial_capacity` bytes (unless it takes over a
  /// dropped builder's memory, as above; the buffer grows as needed either way).
  explicit MessageBuilder(std::size_t initial_capacity);
  /// A moved-from builder stays usable: it starts again from a fresh builder's fields.
  MessageBuilder(MessageBuilder&&) noexcept;
  MessageBuilder& operator=(MessageBuilder&&) noexcept;
  MessageBuilder(const MessageBuilder&) = delete;
  MessageBuilder& operator=(const MessageBuilder&) = delete;
  ~MessageBuilder();

  /// A builder holding every field of `message` (a new id and timestamp come at build()
  /// unless set): the way to make a changed copy of an immutable message.
  static MessageBuilder from_message(const MLOpsMessage& message);

  /// Parses JSON text in the form to_json() writes (FlatBuffers' JSON for the schema) and
  /// verifies the result. A message without an id or timestamp gets fresh ones.
  /// @return the message, or kInvalidArgument naming what the parser rejected.
  static Result<MLOpsMessage> from_json(std::string_view json);

  /// What the message reports.
  MessageBuilder& with_msg_type(MessageType type);

  /// One topic (reads back as one value).
  MessageBuilder& with_topic(std::string_view topic);
  /// Several topics (reads back as a list).
  MessageBuilder& with_topic(std::initializer_list<std::string_view> topics);
  template <TextRange R>
  MessageBuilder& with_topic(const R& topics) {
    return set_list(ListField::kTopic, topics);
  }

  /// Who created the message.
  MessageBuilder& with_creator(std::string_view creator);
  /// A free-form creator type, normalised at once (normalize_creator_type: "ETL" -> MLOPS).
  MessageBuilder& with_creator_type(std::string_view creator_type);
  /// A canonical creator type.
  MessageBuilder& with_creator_type(CreatorType creator_type);
  MessageBuilder& with_creator_type(const char* creator_type) {
    return with_creator_type(std::string_view(creator_type));
  }

  /// The pipeline stage.
  MessageBuilder& with_stage(Stage stage);

  /// One next task (reads back as one value).
  MessageBuilder& with_next_task(std::string_view task);
  /// Several next tasks (reads back as a list).
  MessageBuilder& with_next_task(std::initializer_list<std::string_view> tasks);
  template <TextRange R>
  MessageBuilder& with_next_task(const R& tasks) {
    return set_list(ListField::kNextTask, tasks);
  }

  /// The free-text message.
  MessageBuilder& with_user_msg(std::string_view message);

  /// How often the work was retried.
  MessageBuilder& with_retries(std::int32_t retries);

  /// One output, text or path (reads back as one value).
  MessageBuilder& with_output(std::string_view output);
  template <typename P>
  requires std::same_as<P, std::filesystem::path> MessageBuilder& with_output(const P& output) {
    return with_output(std::string_view(output.native()));
  }
  /// Several outputs (reads back as a list).
  MessageBuilder& with_output(std::initializer_list<std::string_view> outputs);
  template <TextRange R>
  MessageBuilder& with_output(const R& outputs) {
    return set_list(ListField::kOutput, outputs);
  }

  /// One recipient (reads back as one value).
  MessageBuilder& with_recipient(std::string_view recipient);
  /// Several recipients (reads back as a list).
  MessageBuilder& with_recipient(std::initializer_list<std::string_view> recipients);
  template <TextRange R>
  MessageBuilder& with_recipient(const R& recipients) {
    return set_list(ListField::kRecipient, recipients);
  }

  /// Sets additional argument `key` (replacing an earlier value under that key).
  /// Scalar overloads write straight into the buffer without allocating.
  MessageBuilder& with_additional_argument(std::string_view key, std::nullptr_t);
  MessageBuilder& with_additional_argument(std::string_view key, bool value);
  MessageBuilder& with_additional_argument(std::string_view key, std::int64_t value);
  template <std::integral I>
  requires(!std::same_as<I, bool> && !std::same_as<I, std::int64_t>)
      MessageBuilder& with_additional_argument(std::string_view key, I value) {
    return with_additional_argument(key, static_cast<std::int64_t>(value));
  }
  MessageBuilder& with_additional_argument(std::string_view key, double value);
  MessageBuilder& with_additional_argument(std::string_view key, std::string_view value);
  MessageBuilder& with_additional_argument(std::string_view key, const char* value) {
    return with_additional_argument(key, std::string_view(value));
  }
  MessageBuilder& with_additional_argument(std::string_view key, const std::string& value) {
    return with_additional_argument(key, std::string_view(value));
  }
  MessageBuilder& with_additional_argument(std::string_view key, std::span<const std::byte> bytes);
  /// Any JSON-like value, lists and maps nested up to kMaxValueDepth.
  MessageBuilder& with_additional_argument(std::string_view key, const Value& value);
  /// Removes additional argument `key` (its bytes are wiped); nothing if it is not set.
  MessageBuilder& without_additional_argument(std::string_view key);
  /// Sets every entry of `arguments` (the bulk form of with_additional_argument).
  MessageBuilder& with_additional_arguments(const Value::Map& arguments);
  /// The original's name: a map sets each of its entries; any other value is stored
  /// under the key "additional_data". An empty map given to a builder without arguments
  /// reads back as one (MLOpsMessage::additional_data_is_empty_map), not as unset.
  MessageBuilder& with_additional_data(const Value& data);

  /// The message's key: messages with one key keep their order on backends that partition
  /// a topic (it becomes the Kafka record key; see Producer for each backend's order). An
  /// empty key removes the key. Without one the producer decides (Kafka: `ordering`).
  MessageBuilder& with_key(std::string_view key);

  /// The W3C `traceparent` that ties this message to its pipeline run (trace_context.h).
  /// An empty text removes it. Throws std::invalid_argument naming the problem when the
  /// text is not a valid traceparent (check_traceparent() tells without throwing).
  MessageBuilder& with_trace_context(std::string_view traceparent);
  /// A builder whose message continues the trace of `parent`: the parent's trace id and
  /// flags with a new span id; a parent without a (valid) trace context starts a fresh
  /// trace. Every other field is at its default (from_message copies a message instead).
  ///
  ///   auto next = MessageBuilder::child_of(received).with_stage(Stage::TRAIN).build();
  static MessageBuilder child_of(const MLOpsMessage& parent);

  /// An explicit id instead of a fresh one at build().
  MessageBuilder& with_id(MessageId id);
  /// An explicit creation time (ns since the Unix epoch) instead of the time of build().
  MessageBuilder& with_timestamp(std::int64_t unix_ns);

  /// Finishes the message into a buffer of its own; the builder keeps its fields (an
  /// explicit id or timestamp applies to this message only). Costs one allocation (the
  /// message's buffer).
  [[nodiscard]] MLOpsMessage build();

  /// Finishes the message and returns a view of this builder's own buffer, valid until
  /// the builder is next used or destroyed; the builder keeps its fields, as for build(). Allocates
  /// nothing once the builder's buffer has grown to fit: the hot path for a producer that sends and
  /// moves on.
  [[nodiscard]] MLOpsMessage build_view();

  /// Drops every field set so far, back to the defaults, keeping the buffer's memory: the
  /// reuse path for loops that build message after message without allocating.
  void reset() noexcept;

 private:
  enum class ListField : std::uint8_t { kTopic, kNextTask, kOutput, kRecipient };

  template <TextRange R>
  MessageBuilder& set_list(ListField field, const R& values) {
    begin_list(field);
    for (const auto& value : values) {
      if constexpr (std::same_as<std::remove_cvref_t<decltype(value)>, std::filesystem::path>) {
        add_list_element(std::string_view(value.native()));
      } else {
        add_list_element(std::string_view(value));
      }
    }
    return end_list(field, true);
  }
  struct State;
  // Hands a State back to its thread's spare slot instead of freeing it (message_builder.cpp).
  struct StateRecycler {
    void operator()(State* state) const noexcept;
  };
  State& writable();
  void reopen();
  void finish();
  MessageBuilder& with_raw_argument(std::string_view key, std::span<const std::uint8_t> flexbuffer);
  template <typename Write>
  MessageBuilder& with_encoded_argument(std::string_view key, Write&& write);
  void begin_list(ListField field);
  void add_list_element(std::string_view value);
  MessageBuilder& end_list(ListField field, bool given_as_list);
  MessageBuilder& set_one(ListField field, std::string_view value);
  MessageBuilder& set_many(ListField field, std::initializer_list<std::string_view> values);

  std::unique_ptr<State, StateRecycler> state_;
};

}  // namespace mlops::messaging
