#include "message_text.h"

#include <array>

#include "cli.h"
#include "mlops/messaging/legacy_json.h"
#include "mlops/messaging/message_builder.h"

namespace mlops::tool {
namespace {

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      // A newline inside a field must not split the one-line form.
      std::array<char, 8> escaped{};
      std::snprintf(escaped.data(), escaped.size(), "\\x%02x", static_cast<unsigned>(c));
      out += escaped.data();
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_list(std::string& out, std::string_view name, const messaging::StringList& list) {
  if (list.empty()) return;
  out += ' ';
  out += name;
  out += '=';
  if (list.is_list()) out += '[';
  bool first = true;
  for (const auto value : list) {
    if (!first) out += ',';
    first = false;
    append_quoted(out, value);
  }
  if (list.is_list()) out += ']';
}

}  // namespace

std::string to_text_line(const messaging::MLOpsMessage& message) {
  std::string out = message.timestamp() ? format_iso8601(*message.timestamp()) : std::string("-");
  out += ' ';
  out += messaging::to_string(message.message_type());
  if (message.creator()) {
    out += " creator=";
    append_quoted(out, *message.creator());
  }
  if (message.creator_type() != messaging::CreatorType::UNKNOWN) {
    out += " creator_type=";
    out += messaging::to_string(message.creator_type());
  }
  if (message.stage()) {
    out += " stage=";
    out += messaging::to_string(*message.stage());
  }
  append_list(out, "topic", message.topic());
  append_list(out, "next_task", message.next_task());
  append_list(out, "output", message.output());
  append_list(out, "recipient", message.recipient());
  if (message.retries() != 0) out += " retries=" + std::to_string(message.retries());
  if (message.key()) {
    out += " key=";
    append_quoted(out, *message.key());
  }
  // The W3C traceparent that ties the messages of one pipeline run together.
  if (const auto trace = message.trace_context()) {
    out += " trace=";
    append_quoted(out, *trace);
  }
  for (std::size_t i = 0; i < message.additional_argument_count(); ++i) {
    const auto argument = message.additional_argument_at(i);
    out += " arg:";
    out += argument.key;
    out += '=';
    out += argument.value.to_json();
  }
  if (message.user_message()) {
    out += " msg=";
    append_quoted(out, *message.user_message());
  }
  out += '\n';
  return out;
}

std::string to_frame(const messaging::MLOpsMessage& message) {
  const auto bytes = message.bytes();
  std::string out(4 + bytes.size(), '\0');
  const auto size = static_cast<std::uint32_t>(bytes.size());
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xff);
  std::copy(bytes.begin(), bytes.end(), out.begin() + 4);
  return out;
}

Result<messaging::MLOpsMessage> message_from_json_line(std::string_view line) {
  auto message = messaging::MessageBuilder::from_json(line);
  if (message) return message;
  auto original = messaging::legacy_json::decode(line);
  if (original) return original;
  return Error{message.error().code, "not the schema's JSON (" + message.error().message +
                                         ") nor the original library's (" +
                                         original.error().message + ")"};
}

}  // namespace mlops::tool
