// JSON text in and out through FlatBuffers' own parser and text generator, driven by the
// schema text embedded at build time. Only verified buffers reach the generator.

#include <flatbuffers/idl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "messaging/schema_text.h"
#include "mlops/messaging/message_builder.h"
#include "mlops/messaging/mlops_message.h"

namespace mlops::messaging {
namespace {

std::unique_ptr<flatbuffers::Parser> make_parser() {
  flatbuffers::IDLOptions options;
  options.strict_json = true;  // Quoted field names: the output is JSON, not JSON5.
  options.indent_step = -1;    // One line, for logs.
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

// A parser keeps what it built while it is kept, so one that parsed a message this large
// is dropped instead: a thread's idle parser stays small.
constexpr std::size_t kMaxKeptParserBytes = std::size_t{64} << 10;

// Parsing the embedded schema costs far more than parsing a message, so each thread keeps
// one parser (ParseJson clears its builder first) and the copy of the text it parses. A
// parser that failed is dropped, not kept: its state after an error is not documented.
// Taken out of the slot while in use; fork() copies the slot with the rest of the thread's
// memory. The slot is a plain pointer, so it stays readable after the closer frees it at
// thread exit (a later call then parses with a parser of its own).
struct JsonReader {
  std::unique_ptr<flatbuffers::Parser> parser;
  std::string text;
};
thread_local JsonReader* t_json_reader = nullptr;
thread_local bool t_json_reader_closed = false;

struct JsonReaderCloser {
  JsonReaderCloser() = default;
  JsonReaderCloser(const JsonReaderCloser&) = delete;
  JsonReaderCloser& operator=(const JsonReaderCloser&) = delete;
  ~JsonReaderCloser() {
    delete t_json_reader;
    t_json_reader = nullptr;
    t_json_reader_closed = true;
  }
};

std::unique_ptr<JsonReader> take_json_reader() {
  std::unique_ptr<JsonReader> reader(std::exchange(t_json_reader, nullptr));
  if (reader == nullptr) reader = std::make_unique<JsonReader>();
  if (reader->parser == nullptr) reader->parser = make_parser();
  return reader;
}

void keep_json_reader(std::unique_ptr<JsonReader> reader) {
  if (t_json_reader_closed || t_json_reader != nullptr) return;
  if (reader->parser->builder_.GetSize() > kMaxKeptParserBytes ||
      reader->text.capacity() > kMaxKeptParserBytes) {
    return;
  }
  static thread_local JsonReaderCloser closer;  // registered on this thread's first keep
  t_json_reader = reader.release();
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
  auto reader = take_json_reader();
  auto& parser = reader->parser;
  if (parser == nullptr) return Error{ErrorCode::kInternal, "embedded schema failed to parse"};
  reader->text.assign(json);  // ParseJson needs the text NUL-terminated
  if (!parser->ParseJson(reader->text.c_str())) {
    return Error{ErrorCode::kInvalidArgument, "JSON is not an MLOpsMessage: " + parser->error_};
  }
  auto parsed = MLOpsMessage::from_bytes(
      std::span(parser->builder_.GetBufferPointer(), parser->builder_.GetSize()));
  keep_json_reader(std::move(reader));
  if (!parsed) return parsed;
  if (parsed->id() && parsed->timestamp()) return parsed;
  // Rebuilding keeps every field and fills in what is missing.
  auto builder = from_message(*parsed);
  if (const auto id = parsed->id()) builder.with_id(*id);
  if (const auto stamp = parsed->timestamp()) builder.with_timestamp(*stamp);
  return builder.build();
}

}  // namespace mlops::messaging
