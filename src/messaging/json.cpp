// JSON text in and out through FlatBuffers' own parser and text generator, driven by the
// schema text embedded at build time. Only verified buffers reach the generator.

#include <flatbuffers/idl.h>

#include <memory>
#include <string>

#include "messaging/schema_text.h"
#include "mlops/messaging/message_builder.h"
#include "mlops/messaging/mlops_message.h"

namespace mlops::messaging {
namespace {

std::unique_ptr<flatbuffers::Parser> make_parser() {
  flatbuffers::IDLOptions options;
  options.strict_json = true;   // Quoted field names: the output is JSON, not JSON5.
  options.indent_step = -1;     // One line, for logs.
  // Bytes and non-UTF-8 strings are written as \x escapes and read back the same way, so
  // every message survives the round trip (strict JSON readers see those as errors).
  options.allow_non_utf8 = true;
  auto parser = std::make_unique<flatbuffers::Parser>(options);
  const std::string schema(detail::kSchemaText);
  if (!parser->Parse(schema.c_str())) return nullptr;
  return parser;
}

// Text generation only reads the parser, so one shared instance serves every thread.
const flatbuffers::Parser* text_generator() {
  static const std::unique_ptr<flatbuffers::Parser> parser = make_parser();
  return parser.get();
}

}  // namespace

Result<std::string> MLOpsMessage::to_json() const {
  const auto* parser = text_generator();
  if (parser == nullptr) return Error{ErrorCode::kInternal, "embedded schema failed to parse"};
  std::string json;
  if (!flatbuffers::GenerateText(*parser, data_, &json)) {
    return Error{ErrorCode::kInternal, "FlatBuffers text generation failed"};
  }
  return json;
}

Result<MLOpsMessage> MessageBuilder::from_json(std::string_view json) {
  // Parsing JSON fills the parser's own builder, so each call gets a fresh parser.
  auto parser = make_parser();
  if (parser == nullptr) return Error{ErrorCode::kInternal, "embedded schema failed to parse"};
  const std::string text(json);
  if (!parser->ParseJson(text.c_str())) {
    return Error{ErrorCode::kInvalidArgument, "JSON is not an MLOpsMessage: " + parser->error_};
  }
  auto parsed = MLOpsMessage::from_bytes(
      std::span(parser->builder_.GetBufferPointer(), parser->builder_.GetSize()));
  if (!parsed) return parsed;
  if (parsed->id() && parsed->timestamp()) return parsed;
  // Rebuilding keeps every field and fills in what is missing.
  auto builder = from_message(*parsed);
  if (const auto id = parsed->id()) builder.with_id(*id);
  if (const auto stamp = parsed->timestamp()) builder.with_timestamp(*stamp);
  return builder.build();
}

}  // namespace mlops::messaging
