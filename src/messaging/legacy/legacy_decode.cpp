// legacy_json::decode and looks_like: the original's JSON object to a verified message,
// rebuilt through MessageBuilder as the original's MessageDeserializer did.

#include <array>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "messaging/legacy/json_text.h"
#include "mlops/messaging/legacy_json.h"
#include "mlops/messaging/message_builder.h"

namespace mlops::messaging::legacy_json {
namespace {

constexpr std::array<std::string_view, 11> kKeys = {
    "msg_type", "topic",   "creator", "creator_type", "stage",   "next_task",
    "usr_msg",  "retries", "output",  "recipient",    "add_data"};

Error wrong(std::string_view key, std::string_view expected, const Value& got) {
  return Error{ErrorCode::kInvalidArgument, "legacy JSON: \"" + std::string(key) + "\" must be " +
                                                std::string(expected) + ", not " +
                                                std::string(to_string(got.type()))};
}

const Value* field(const Value::Map& object, std::string_view key) {
  const auto found = object.find(key);
  if (found == object.end() || found->second.type() == ValueType::kNull) return nullptr;
  return &found->second;
}

// topic, next_task, output, recipient: one string (reads back as one) or a list of them.
// `set` is called with the one string or the list.
template <typename Set>
Result<void> set_text_field(const Value::Map& object, std::string_view key, Set&& set) {
  const Value* value = field(object, key);
  if (value == nullptr) return {};
  if (const auto* text = value->if_string()) {
    set(std::string_view(*text));
    return {};
  }
  const auto* list = value->if_list();
  if (list == nullptr) return wrong(key, "a string or a list of strings", *value);
  std::vector<std::string_view> texts;
  texts.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto* text = (*list)[i].if_string();
    if (text == nullptr) {
      return wrong(std::string(key) + "[" + std::to_string(i) + "]", "a string", (*list)[i]);
    }
    texts.push_back(*text);
  }
  set(texts);
  return {};
}

template <typename Enum>
Result<void> set_enum(const Value::Map& object, std::string_view key, std::string_view choices,
                      std::optional<Enum>& out) {
  const Value* value = field(object, key);
  if (value == nullptr) return {};
  const auto* text = value->if_string();
  if (text == nullptr) return wrong(key, "a string", *value);
  out = from_string<Enum>(*text);
  if (!out) {
    return Error{ErrorCode::kInvalidArgument, "legacy JSON: \"" + std::string(key) + "\" is '" +
                                                  detail::printable(*text) + "', not one of " +
                                                  std::string(choices)};
  }
  return {};
}

Result<void> set_string(const Value::Map& object, std::string_view key, const std::string*& out) {
  const Value* value = field(object, key);
  if (value == nullptr) return {};
  out = value->if_string();
  if (out == nullptr) return wrong(key, "a string", *value);
  return {};
}

Result<MLOpsMessage> build(const Value::Map& object) {
  bool any_key = false;
  for (const auto key : kKeys) any_key = any_key || object.contains(key);
  if (!any_key) {
    return Error{ErrorCode::kInvalidArgument,
                 "legacy JSON: the object has none of the message's keys (msg_type, topic, "
                 "creator, creator_type, stage, next_task, usr_msg, retries, output, "
                 "recipient, add_data)"};
  }
  std::optional<MessageType> type;
  if (auto done =
          set_enum(object, "msg_type", "START, COMPLETE, FAIL, INPROGRESS, RETRY, OTHER", type);
      !done) {
    return done.error();
  }
  std::optional<Stage> stage;
  if (auto done = set_enum(object, "stage",
                           "STAGED, IN_ANNOTATIONS, ANNOTATIONS_COMPLETE, UNSTAGED, TRAIN, "
                           "FINE_TUNE, EVALUATION, ETL",
                           stage);
      !done) {
    return done.error();
  }
  const std::string* creator = nullptr;
  const std::string* creator_type = nullptr;
  const std::string* user_message = nullptr;
  for (auto [key, out] : {std::pair{"creator", &creator}, std::pair{"creator_type", &creator_type},
                          std::pair{"usr_msg", &user_message}}) {
    if (auto done = set_string(object, key, *out); !done) return done.error();
  }
  std::optional<std::int32_t> retries;
  if (const Value* value = field(object, "retries")) {
    const auto* number = value->if_int();
    if (number == nullptr) return wrong("retries", "an integer", *value);
    if (*number < INT32_MIN || *number > INT32_MAX) {
      return Error{ErrorCode::kInvalidArgument,
                   "legacy JSON: \"retries\" is " + std::to_string(*number) + ", outside 32 bits"};
    }
    retries = static_cast<std::int32_t>(*number);
  }

  try {
    MessageBuilder builder;
    if (type) builder.with_msg_type(*type);
    if (stage) builder.with_stage(*stage);
    if (creator != nullptr) builder.with_creator(*creator);
    if (creator_type != nullptr) builder.with_creator_type(std::string_view(*creator_type));
    if (user_message != nullptr) builder.with_user_msg(*user_message);
    if (retries) builder.with_retries(*retries);
    const auto topic = [&](const auto& v) { builder.with_topic(v); };
    const auto next_task = [&](const auto& v) { builder.with_next_task(v); };
    const auto output = [&](const auto& v) { builder.with_output(v); };
    const auto recipient = [&](const auto& v) { builder.with_recipient(v); };
    for (auto done :
         {set_text_field(object, "topic", topic), set_text_field(object, "next_task", next_task),
          set_text_field(object, "output", output),
          set_text_field(object, "recipient", recipient)}) {
      if (!done) return done.error();
    }
    if (const Value* data = field(object, "add_data")) builder.with_additional_data(*data);
    return builder.build();
  } catch (const std::bad_alloc&) {
    return Error{ErrorCode::kTooLarge, "legacy JSON: out of memory while building the message"};
  } catch (const std::exception& error) {
    // with_* throw only for what JSON can carry but a message cannot: a NUL in a key.
    return Error{ErrorCode::kInvalidArgument,
                 "legacy JSON: " + detail::printable(error.what(), 200)};
  }
}

}  // namespace

bool looks_like(std::span<const std::uint8_t> bytes) noexcept {
  std::size_t i = 0;
  if (bytes.size() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) i = 3;
  for (; i < bytes.size(); ++i) {
    const auto byte = bytes[i];
    if (byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r') continue;
    return byte == '{';
  }
  return false;
}

Result<MLOpsMessage> decode(std::string_view json, const Limits& limits) {
  // A UTF-8 byte order mark is no JSON, but some writers put one first.
  if (json.starts_with("\xEF\xBB\xBF")) json.remove_prefix(3);
  // One only: nlohmann would skip a second one itself.
  if (json.starts_with("\xEF\xBB\xBF")) {
    return Error{ErrorCode::kInvalidArgument,
                 "legacy JSON: a second byte order mark where the JSON text starts"};
  }
  auto value = parse(json, limits);
  if (!value) return value.error();
  const auto* object = value->if_map();
  if (object == nullptr) {
    return Error{ErrorCode::kInvalidArgument, "legacy JSON: a message is a JSON object, not " +
                                                  std::string(to_string(value->type()))};
  }
  return build(*object);
}

Result<MLOpsMessage> decode(std::span<const std::uint8_t> bytes, const Limits& limits) {
  return decode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                limits);
}

}  // namespace mlops::messaging::legacy_json
