// legacy_json::encode and write: the original's JSON for a message, in json.dumps's form.

#include <string>
#include <string_view>
#include <vector>

#include "messaging/legacy/json_text.h"
#include "mlops/messaging/legacy_json.h"

namespace mlops::messaging::legacy_json {
namespace {

using detail::append_double;
using detail::append_int;
using detail::append_string;

Error bytes_error(std::string_view where) {
  return Error{ErrorCode::kInvalidArgument,
               "legacy JSON cannot carry bytes (in " + std::string(where) +
                   "): JSON has no bytes type, and the original could not send them either"};
}

// Distinct keys of one object write the same JSON key only where U+FFFD stands in for bytes
// that are not UTF-8 (the escaping is one-to-one otherwise), so only keys whose text holds
// \ufffd are compared; decoding would keep one value and lose the other.
class ReplacedKeys {
 public:
  // The key appended to `out` from `start` on: an error if an earlier key wrote the same.
  Result<void> check(const std::string& out, std::size_t start, std::string_view where) {
    const std::string_view written(out.data() + start, out.size() - start);
    if (written.find("\\ufffd") == std::string_view::npos) return {};
    for (const auto& seen : seen_) {
      if (seen == written) {
        return Error{ErrorCode::kInvalidArgument,
                     "legacy JSON: two keys of " + std::string(where) + " both become " +
                         detail::printable(written) +
                         " (bytes that are not UTF-8 become U+FFFD), so one value would be "
                         "lost: make the keys valid UTF-8"};
      }
    }
    seen_.emplace_back(written);
    return {};
  }

 private:
  std::vector<std::string> seen_;
};

// Values of a verified message nest at most 64 levels, so recursion is bounded.
Result<void> write_view(const ValueView& value, std::string& out, std::string_view where) {
  switch (value.type()) {
    case ValueType::kNull: out += "null"; return {};
    case ValueType::kBool: out += *value.as_bool() ? "true" : "false"; return {};
    case ValueType::kInt: append_int(out, *value.as_int()); return {};
    case ValueType::kDouble: append_double(out, *value.as_double()); return {};
    case ValueType::kString: append_string(out, *value.as_string()); return {};
    case ValueType::kBytes: return bytes_error(where);
    case ValueType::kList: {
      out += '[';
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i != 0) out += ", ";
        if (auto done = write_view(value[i], out, where); !done) return done;
      }
      out += ']';
      return {};
    }
    case ValueType::kMap: {
      out += '{';
      ReplacedKeys keys;
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i != 0) out += ", ";
        const std::size_t start = out.size();
        append_string(out, value.key_at(i));
        if (auto unique = keys.check(out, start, where); !unique) return unique;
        out += ": ";
        if (auto done = write_view(value[i], out, where); !done) return done;
      }
      out += '}';
      return {};
    }
  }
  return {};
}

void write_text_field(std::string& out, const StringList& list) {
  if (!list.is_list()) {
    if (list.empty()) {
      out += "null";
    } else {
      append_string(out, list[0]);
    }
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0) out += ", ";
    append_string(out, list[i]);
  }
  out += ']';
}

void write_optional(std::string& out, std::optional<std::string_view> text) {
  if (text) {
    append_string(out, *text);
  } else {
    out += "null";
  }
}

// add_data as with_additional_data() was given it: one argument named "additional_data"
// is that value; several arguments are an object of them; none is null, or {} when an
// empty map was given.
Result<void> write_add_data(const MLOpsMessage& message, std::string& out) {
  const std::size_t count = message.additional_argument_count();
  if (count == 0) {
    out += message.additional_data_is_empty_map() ? "{}" : "null";
    return {};
  }
  if (count == 1) {
    const auto only = message.additional_argument_at(0);
    if (only.key == "additional_data") return write_view(only.value, out, "add_data");
  }
  out += '{';
  ReplacedKeys keys;
  for (std::size_t i = 0; i < count; ++i) {
    const auto argument = message.additional_argument_at(i);
    if (i != 0) out += ", ";
    const std::size_t start = out.size();
    append_string(out, argument.key);
    if (auto unique = keys.check(out, start, "add_data"); !unique) return unique;
    out += ": ";
    const std::string where = "add_data[\"" + std::string(argument.key) + "\"]";
    if (auto done = write_view(argument.value, out, where); !done) return done;
  }
  out += '}';
  return {};
}

}  // namespace

Result<std::string> encode(const MLOpsMessage& message) {
  std::string out;
  out.reserve(256 + message.bytes().size());
  out += "{\"msg_type\": ";
  append_string(out, to_string(message.message_type()));
  out += ", \"topic\": ";
  write_text_field(out, message.topic());
  out += ", \"creator\": ";
  write_optional(out, message.creator());
  out += ", \"creator_type\": ";
  append_string(out, to_string(message.creator_type()));
  out += ", \"stage\": ";
  const auto stage = message.stage();
  write_optional(out, stage ? std::optional<std::string_view>(to_string(*stage)) : std::nullopt);
  out += ", \"next_task\": ";
  write_text_field(out, message.next_task());
  out += ", \"usr_msg\": ";
  write_optional(out, message.user_message());
  out += ", \"retries\": ";
  append_int(out, message.retries());
  out += ", \"output\": ";
  write_text_field(out, message.output());
  out += ", \"recipient\": ";
  write_text_field(out, message.recipient());
  out += ", \"add_data\": ";
  if (auto done = write_add_data(message, out); !done) return done.error();
  out += '}';
  return out;
}

Result<void> write(const Value& value, std::string& out) {
  switch (value.type()) {
    case ValueType::kNull: out += "null"; return {};
    case ValueType::kBool: out += *value.if_bool() ? "true" : "false"; return {};
    case ValueType::kInt: append_int(out, *value.if_int()); return {};
    case ValueType::kDouble: append_double(out, *value.if_double()); return {};
    case ValueType::kString: append_string(out, *value.if_string()); return {};
    case ValueType::kBytes: return bytes_error("a value");
    case ValueType::kList: {
      out += '[';
      bool first = true;
      for (const auto& element : *value.if_list()) {
        if (!first) out += ", ";
        first = false;
        if (auto done = write(element, out); !done) return done;
      }
      out += ']';
      return {};
    }
    case ValueType::kMap: {
      out += '{';
      bool first = true;
      ReplacedKeys keys;
      for (const auto& [key, element] : *value.if_map()) {
        if (!first) out += ", ";
        first = false;
        const std::size_t start = out.size();
        append_string(out, key);
        if (auto unique = keys.check(out, start, "an object"); !unique) return unique;
        out += ": ";
        if (auto done = write(element, out); !done) return done;
      }
      out += '}';
      return {};
    }
  }
  return {};
}

}  // namespace mlops::messaging::legacy_json
