// flatc: hand-written code over the generated header, the FlatBuffers baseline.
#include "message/codecs.h"

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/flexbuffers.h>
#include <flatbuffers/idl.h>
#include <flatbuffers/util.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

namespace mlops::bench::message {

namespace {

void encode_flex(flexbuffers::Builder& flex, const mes::Value& v) {
  switch (v.type()) {
    case mes::ValueType::kNull: flex.Null(); return;
    case mes::ValueType::kBool: flex.Bool(*v.if_bool()); return;
    case mes::ValueType::kInt: flex.Int(*v.if_int()); return;
    case mes::ValueType::kDouble: flex.Double(*v.if_double()); return;
    case mes::ValueType::kString: flex.String(v.if_string()->data(), v.if_string()->size()); return;
    case mes::ValueType::kBytes: flex.Blob(v.if_bytes()->data(), v.if_bytes()->size()); return;
    case mes::ValueType::kList: {
      const auto start = flex.StartVector();
      for (const auto& element : *v.if_list()) encode_flex(flex, element);
      flex.EndVector(start, false, false);
      return;
    }
    case mes::ValueType::kMap: {
      const auto start = flex.StartMap();
      for (const auto& [key, element] : *v.if_map()) {
        flex.Key(key.data(), key.size());
        encode_flex(flex, element);
      }
      flex.EndMap(start);
      return;
    }
  }
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> flatc_strings(
    FlatcWriter& w, const std::vector<std::string>& values) {
  if (values.empty()) return 0;
  for (std::size_t i = 0; i < values.size(); ++i) w.strings[i] = w.fbb.CreateString(values[i]);
  return w.fbb.CreateVector(w.strings.data(), values.size());
}

}  // namespace

/// Builds `m` into w.fbb (cleared first) and returns the finished bytes.
std::span<const std::uint8_t> build_flatc(FlatcWriter& w, const Source& m,
                                          const FixedStamp* fixed) {
  auto& fbb = w.fbb;
  fbb.Clear();
  const auto topic = flatc_strings(w, m.topic);
  const auto creator = m.creator ? fbb.CreateString(*m.creator) : 0;
  const auto next_task = flatc_strings(w, m.next_task);
  const auto user_message = m.user_message ? fbb.CreateString(*m.user_message) : 0;
  const auto output = flatc_strings(w, m.output);
  const auto recipient = flatc_strings(w, m.recipient);

  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::Argument>>> args = 0;
  if (!m.args.empty()) {
    for (std::size_t i = 0; i < m.args.size(); ++i) {
      const auto& [key, value] = m.args[i];
      w.flex.Clear();
      encode_flex(w.flex, value);
      w.flex.Finish();
      const auto& flex_bytes = w.flex.GetBuffer();
      const auto key_offset = fbb.CreateString(key);
      // Aligned so that readers can read the FlexBuffer's scalars in place.
      fbb.ForceVectorAlignment(flex_bytes.size(), 1, 8);
      const auto value_offset = fbb.CreateVector(flex_bytes.data(), flex_bytes.size());
      w.args[i] = wire::CreateArgument(fbb, key_offset, value_offset);
    }
    // Sorted by key for binary search. CreateVectorOfSortedTables would std::stable_sort,
    // which allocates a temporary buffer; std::sort does not.
    const auto key_of = [&](flatbuffers::Offset<wire::Argument> arg) {
      const auto* key = flatbuffers::GetTemporaryPointer(fbb, arg)->key();
      return std::string_view(key->c_str(), key->size());
    };
    std::sort(w.args.begin(), w.args.begin() + static_cast<std::ptrdiff_t>(m.args.size()),
              [&](auto a, auto b) { return key_of(a) < key_of(b); });
    args = fbb.CreateVector(w.args.data(), m.args.size());
  }

  const std::int64_t now = fixed ? fixed->timestamp_ns : IdGenerator::now_ns();
  const wire::MessageId id = fixed ? fixed->id : w.ids.next(now);
  std::uint8_t list_fields = 0;
  if (m.topic_is_list) list_fields |= static_cast<std::uint8_t>(wire::ListFields::topic);
  if (m.next_task_is_list) list_fields |= static_cast<std::uint8_t>(wire::ListFields::next_task);
  if (m.output_is_list) list_fields |= static_cast<std::uint8_t>(wire::ListFields::output);
  if (m.recipient_is_list) list_fields |= static_cast<std::uint8_t>(wire::ListFields::recipient);
  const auto stage = m.stage
                         ? flatbuffers::Optional<wire::Stage>(static_cast<wire::Stage>(*m.stage))
                         : flatbuffers::nullopt;
  const auto root = wire::CreateMessage(
      fbb, static_cast<wire::MessageType>(m.msg_type), topic, creator,
      static_cast<wire::CreatorType>(m.creator_type), stage, next_task, user_message, m.retries,
      output, recipient, args, &id, now, static_cast<wire::ListFields>(list_fields));
  wire::FinishMessageBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetSize()};
}

namespace {

void read_flex(Hash& s, const flexbuffers::Reference& r) {
  switch (r.GetType()) {
    case flexbuffers::FBT_NULL: s.add(kNull); return;
    case flexbuffers::FBT_BOOL:
      s.add(kBool);
      s.add(r.AsBool());
      return;
    case flexbuffers::FBT_INT:
      s.add(kInt);
      s.add(static_cast<std::uint64_t>(r.AsInt64()));
      return;
    case flexbuffers::FBT_FLOAT:
      s.add(kDouble);
      s.add(std::bit_cast<std::uint64_t>(r.AsDouble()));
      return;
    case flexbuffers::FBT_STRING: {
      const auto text = r.AsString();
      s.add(kString);
      s.text({text.c_str(), text.size()});
      return;
    }
    case flexbuffers::FBT_BLOB: {
      const auto blob = r.AsBlob();
      s.add(kBytes);
      s.add(blob.size());
      if (blob.size() != 0) s.add(blob.data()[0]);
      return;
    }
    case flexbuffers::FBT_VECTOR: {
      const auto vec = r.AsVector();
      s.add(kList);
      s.add(vec.size());
      for (std::size_t i = 0; i < vec.size(); ++i) read_flex(s, vec[i]);
      return;
    }
    case flexbuffers::FBT_MAP: {
      const auto map = r.AsMap();
      const auto keys = map.Keys();
      const auto values = map.Values();
      s.add(kMap);
      s.add(map.size());
      for (std::size_t i = 0; i < map.size(); ++i) {
        s.text(keys[i].AsKey());
        read_flex(s, values[i]);
      }
      return;
    }
    default: s.add(kOther); return;
  }
}

void read_flatc_list(Hash& s,
                     const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* list,
                     std::uint8_t flags, wire::ListFields flag) {
  s.add(list ? list->size() : 0);
  s.add((flags & static_cast<std::uint8_t>(flag)) != 0);
  if (list == nullptr) return;
  for (const auto* text : *list) s.text({text->c_str(), text->size()});
}

void read_flatc_text(Hash& s, const flatbuffers::String* text) {
  if (text) s.text({text->c_str(), text->size()});
  else s.missing();
}

}  // namespace

/// Reads every field through the generated accessors.
std::uint64_t read_flatc(const std::uint8_t* data) {
  const auto* m = wire::GetMessage(data);
  const auto flags = static_cast<std::uint8_t>(m->list_fields());
  Hash s;
  s.add(static_cast<std::uint64_t>(m->msg_type()));
  read_flatc_list(s, m->topic(), flags, wire::ListFields::topic);
  read_flatc_text(s, m->creator());
  s.add(static_cast<std::uint64_t>(m->creator_type()));
  const auto stage = m->stage();
  s.add(stage.has_value() ? 1 + static_cast<std::uint64_t>(*stage) : 0);
  read_flatc_list(s, m->next_task(), flags, wire::ListFields::next_task);
  read_flatc_text(s, m->user_message());
  s.add(static_cast<std::uint32_t>(m->retries()));
  read_flatc_list(s, m->output(), flags, wire::ListFields::output);
  read_flatc_list(s, m->recipient(), flags, wire::ListFields::recipient);
  const auto* args = m->additional_arguments();
  s.add(args ? args->size() : 0);
  if (args != nullptr) {
    for (const auto* arg : *args) {
      s.text({arg->key()->c_str(), arg->key()->size()});
      const auto* value = arg->value();
      if (value == nullptr) {
        s.add(kNull);
      } else {
        read_flex(s, flexbuffers::GetRoot(value->data(), value->size()));
      }
    }
  }
  const auto* id = m->id();
  s.add(id ? id->hi() : 0);
  s.add(id ? id->lo() : 0);
  const auto stamp = m->timestamp_ns();
  s.add(stamp.has_value() ? static_cast<std::uint64_t>(*stamp) : 0);
  return s.h;
}

namespace {

bool verify_flatc(const std::uint8_t* data, std::size_t size) {
  flatbuffers::Verifier verifier(data, size);
  return wire::VerifyMessageBuffer(verifier);
}

}  // namespace

// build: fills every field and finishes the message, id and timestamp included.

void flatc_build(benchmark::State& state, const Fixture& f) {
  FlatcWriter writer;
  (void)build_flatc(writer, f.source);
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto bytes = build_flatc(writer, f.source);
    keep(bytes);
    size = bytes.size();
  }
  counters.finish(size, size);
}

// The baseline for build(): hand-written code, then the same one-allocation owned copy.
void flatc_build_owned(benchmark::State& state, const Fixture& f) {
  FlatcWriter writer;
  (void)build_flatc(writer, f.source);
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    const auto bytes = build_flatc(writer, f.source);
    auto owned = std::make_shared_for_overwrite<std::uint64_t[]>((bytes.size() + 7) / 8);
    std::memcpy(owned.get(), bytes.data(), bytes.size());
    keep(owned);
    size = bytes.size();
  }
  counters.finish(size, size);
}

void flatc_build_fresh(benchmark::State& state, const Fixture& f) {
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    FlatcWriter writer;
    (void)build_flatc(writer, f.source);
    auto owned = writer.fbb.Release();  // The message keeps the builder's buffer.
    keep(owned);
    size = owned.size();
  }
  counters.finish(size, size);
}

// verify: untrusted bytes in, a verified message out.

void flatc_verify(benchmark::State& state, const Fixture& f) {
  const auto* data = f.bytes.data();
  const auto size = f.bytes.size;
  bool ok = true;
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    bool verified = verify_flatc(data, size);
    keep(verified);
    ok = ok && verified;
  }
  counters.finish(size, ok);
  if (!ok) state.SkipWithError("Verifier rejected the message");
}

// The baseline for from_bytes(): the same owned, aligned copy, then the raw Verifier.
void flatc_from_json(benchmark::State& state, const Fixture& f) {
  flatbuffers::IDLOptions options;  // as the library's own parser
  options.strict_json = true;
  options.indent_step = -1;
  options.allow_non_utf8 = true;
  flatbuffers::Parser parser(options);
  std::string schema;
  if (!flatbuffers::LoadFile(MLOPS_BENCH_SCHEMA, false, &schema) || !parser.Parse(schema.c_str())) {
    state.SkipWithError("the schema " MLOPS_BENCH_SCHEMA " did not parse");
    return;
  }
  std::string text;
  std::size_t size = 0;
  bool ok = true;
  Counters counters(state);
  for (auto _ : state) {
    text.assign(f.mlops_json);  // NUL-terminated, as ParseJson needs
    ok = parser.ParseJson(text.c_str()) && ok;
    const auto* data = parser.builder_.GetBufferPointer();
    size = parser.builder_.GetSize();
    flatbuffers::Verifier verifier(data, size);
    ok = wire::VerifyMessageBuffer(verifier) && ok;
    auto owned = std::make_shared_for_overwrite<std::uint64_t[]>((size + 7) / 8);
    std::memcpy(owned.get(), data, size);
    keep(owned);
  }
  counters.finish(size, size);
  if (!ok) state.SkipWithError("the parser or Verifier rejected the text");
}

void flatc_copy_verify(benchmark::State& state, const Fixture& f) {
  const auto* data = f.bytes.data();
  const auto size = f.bytes.size;
  bool ok = true;
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    auto owned = std::make_shared_for_overwrite<std::uint64_t[]>((size + 7) / 8);
    std::memcpy(owned.get(), data, size);
    bool verified = verify_flatc(reinterpret_cast<const std::uint8_t*>(owned.get()), size);
    keep(owned);
    ok = ok && verified;
  }
  counters.finish(size, ok);
  if (!ok) state.SkipWithError("Verifier rejected the message");
}

// read: every field of a verified message.

void flatc_read(benchmark::State& state, const Fixture& f) {
  const auto* data = f.bytes.data();
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    checksum = read_flatc(data);
    keep(checksum);
  }
  counters.finish(f.bytes.size, checksum);
}

// verify_read: what a receiver does with the bytes it was handed.

void flatc_verify_read(benchmark::State& state, const Fixture& f) {
  const auto* data = f.bytes.data();
  const auto size = f.bytes.size;
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    checksum = verify_flatc(data, size) ? read_flatc(data) : 0;
    keep(checksum);
  }
  counters.finish(size, checksum);
}

// round_trip: build, then verify (or parse) and read every field.

void flatc_round_trip(benchmark::State& state, const Fixture& f) {
  FlatcWriter writer;
  (void)build_flatc(writer, f.source);
  std::uint64_t checksum = 0;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto bytes = build_flatc(writer, f.source);
    keep(bytes);
    checksum = verify_flatc(bytes.data(), bytes.size()) ? read_flatc(bytes.data()) : 0;
    keep(checksum);
    size = bytes.size();
  }
  counters.finish(size, checksum & 0xFFF);
}

}  // namespace mlops::bench::message
