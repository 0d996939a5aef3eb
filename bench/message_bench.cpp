// Message-layer benchmarks (issue 3): our MessageBuilder / MLOpsMessage beside every baseline,
// in one binary and one run, on two messages (seed and full). Benchmarks are named
// <message>/<operation>/<implementation>; bench/run turns their medians into ratios.
//
// Baselines: hand-written flatc code for our schema (reused FlatBufferBuilder), protobuf
// (message_bench.proto), nlohmann::json (the original system's format) and memcpy.
// Every implementation starts from the same Source (the producer's data) and writes the
// same fields, id and timestamp included; main() checks that mlops and flatc build the
// same message before anything runs. Counters: bytes (on the wire), allocs (per iteration,
// from the counting operator new in alloc_counter.cpp) and checksum (of what was built or
// read, so nothing is optimised away; mlops and flatc agree on it where they read the same
// bytes). --mlops_iterations=N fixes every benchmark's iteration count, for callgrind.

#include <benchmark/benchmark.h>
#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/flexbuffers.h>
#include <google/protobuf/arena.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/alloc_counter.h"
#include "message_bench.pb.h"
#include "mlops/messaging.h"
#include "mlops/messaging/detail/mlops_message_generated.h"

namespace {

namespace mes = mlops::messaging;
namespace wire = mlops::messaging::wire;
namespace pb = mlops::bench::pb;
using nlohmann::json;

// --- The producer's data ---------------------------------------------------------------

/// One message as a producer holds it before serialising; every implementation builds from it.
struct Source {
  std::string name;
  mes::MessageType msg_type = mes::MessageType::OTHER;
  std::vector<std::string> topic;
  bool topic_is_list = false;
  std::optional<std::string> creator;
  mes::CreatorType creator_type = mes::CreatorType::UNKNOWN;
  std::string creator_type_text;  // The free-form text the original took ("ETL").
  std::optional<mes::Stage> stage;
  std::vector<std::string> next_task;
  bool next_task_is_list = false;
  std::optional<std::string> user_message;
  std::int32_t retries = 0;
  std::vector<std::string> output;
  bool output_is_list = false;
  std::vector<std::string> recipient;
  bool recipient_is_list = false;
  std::vector<std::pair<std::string, mes::Value>> args;  // In the producer's order, unsorted.
};

Source seed_message() {
  Source m;
  m.name = "seed";
  m.msg_type = mes::MessageType::START;
  m.topic = {"mlops.etl"};
  m.creator = "ETL";
  m.creator_type = mes::CreatorType::MLOPS;
  m.creator_type_text = "ETL";
  m.next_task = {"Train"};
  m.user_message = "Hello World";
  m.output = {"s3://datasets/etl/2024-06-01/part-0000.parquet"};
  return m;
}

Source full_message() {
  Source m;
  m.name = "full";
  m.msg_type = mes::MessageType::COMPLETE;
  m.topic = {"mlops.train", "mlops.audit"};
  m.topic_is_list = true;
  m.creator = "trainer-7";
  m.creator_type = mes::CreatorType::MLOPS;
  m.creator_type_text = "Training";
  m.stage = mes::Stage::TRAIN;
  m.next_task = {"Evaluate", "Register"};
  m.next_task_is_list = true;
  m.user_message = "Training finished: 30 epochs, best validation loss 0.231";
  m.retries = 2;
  m.output = {"s3://models/resnet50/run-42/model.pt", "s3://models/resnet50/run-42/metrics.json"};
  m.output_is_list = true;
  m.recipient = {"evaluator", "model-registry"};
  m.recipient_is_list = true;
  mes::Value::Bytes digest(16);
  for (std::size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<std::byte>(i * 37 + 11);
  m.args = {
      {"epochs", mes::Value(30)},
      {"learning_rate", mes::Value(0.001)},
      {"early_stopped", mes::Value(true)},
      {"model", mes::Value("resnet50")},
      {"weights_sha", mes::Value(std::move(digest))},
      {"layers", mes::Value(mes::Value::List{64, 128, 256, 512})},
      {"optimizer", mes::Value(mes::Value::Map{{"name", "adam"}, {"beta1", 0.9}, {"beta2", 0.999}})},
      {"parent_run", mes::Value(nullptr)},
  };
  return m;
}

// --- Checksums of what was read ---------------------------------------------------------

struct Hash {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over 64-bit words.
  void add(std::uint64_t x) { h = (h ^ x) * 1099511628211ULL; }
  void text(std::string_view t) {
    add(t.size());
    if (!t.empty()) add(static_cast<unsigned char>(t.front()));
  }
  void missing() { add(0xFFFF); }
};

enum Tag : std::uint64_t { kNull = 0xA0, kBool, kInt, kDouble, kString, kBytes, kList, kMap, kOther };

// Identifier of a message built for the baselines: the same UUIDv7 layout and the same work
// as MessageId::generate (clock split into ms and sub-ms, splitmix64, monotonic per thread).
struct IdGenerator {
  std::uint64_t random = 0x243F6A8885A308D3ULL;
  std::uint64_t last_hi = 0;
  std::uint64_t last_lo = 0;

  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  wire::MessageId next(std::int64_t unix_ns) {
    const auto ns = static_cast<std::uint64_t>(unix_ns);
    const std::uint64_t ms = ns / 1'000'000;
    const std::uint64_t sub_ms = ((ns % 1'000'000) << 12) / 1'000'000;
    std::uint64_t z = (random += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    std::uint64_t hi = ((ms & 0xFFFFFFFFFFFF) << 16) | 0x7000 | sub_ms;
    std::uint64_t lo = 0x8000000000000000ULL | (z & 0x3FFFFFFFFFFFFFFFULL);
    if (hi < last_hi || (hi == last_hi && lo <= last_lo)) {
      hi = last_hi;
      lo = last_lo + 1;
    }
    last_hi = hi;
    last_lo = lo;
    return {hi, lo};
  }
};

// --- mlops: our MessageBuilder and MLOpsMessage -----------------------------------------

void add_argument(mes::MessageBuilder& b, std::string_view key, const mes::Value& v) {
  // The typed overloads for scalars, as the builder's documentation recommends.
  switch (v.type()) {
    case mes::ValueType::kNull: b.with_additional_argument(key, nullptr); return;
    case mes::ValueType::kBool: b.with_additional_argument(key, *v.if_bool()); return;
    case mes::ValueType::kInt: b.with_additional_argument(key, *v.if_int()); return;
    case mes::ValueType::kDouble: b.with_additional_argument(key, *v.if_double()); return;
    case mes::ValueType::kString:
      b.with_additional_argument(key, std::string_view(*v.if_string()));
      return;
    case mes::ValueType::kBytes:
      b.with_additional_argument(key, std::span<const std::byte>(*v.if_bytes()));
      return;
    case mes::ValueType::kList:
    case mes::ValueType::kMap: b.with_additional_argument(key, v); return;
  }
}

/// Sets every field of `m`; `text_creator_type` uses the free-form overload ("ETL").
void fill(mes::MessageBuilder& b, const Source& m, bool text_creator_type = false) {
  b.with_msg_type(m.msg_type);
  if (!m.topic.empty()) {
    if (m.topic_is_list) b.with_topic(m.topic); else b.with_topic(m.topic.front());
  }
  if (m.creator) b.with_creator(*m.creator);
  if (text_creator_type) {
    b.with_creator_type(std::string_view(m.creator_type_text));
  } else {
    b.with_creator_type(m.creator_type);
  }
  if (m.stage) b.with_stage(*m.stage);
  if (!m.next_task.empty()) {
    if (m.next_task_is_list) b.with_next_task(m.next_task); else b.with_next_task(m.next_task.front());
  }
  if (m.user_message) b.with_user_msg(*m.user_message);
  b.with_retries(m.retries);
  if (!m.output.empty()) {
    if (m.output_is_list) b.with_output(m.output); else b.with_output(m.output.front());
  }
  if (!m.recipient.empty()) {
    if (m.recipient_is_list) b.with_recipient(m.recipient); else b.with_recipient(m.recipient.front());
  }
  for (const auto& [key, value] : m.args) add_argument(b, key, value);
}

void read_value(Hash& s, const mes::ValueView& v) {
  switch (v.type()) {
    case mes::ValueType::kNull: s.add(kNull); return;
    case mes::ValueType::kBool: s.add(kBool); s.add(*v.as_bool()); return;
    case mes::ValueType::kInt: s.add(kInt); s.add(static_cast<std::uint64_t>(*v.as_int())); return;
    case mes::ValueType::kDouble: s.add(kDouble); s.add(std::bit_cast<std::uint64_t>(*v.as_double())); return;
    case mes::ValueType::kString: s.add(kString); s.text(*v.as_string()); return;
    case mes::ValueType::kBytes: {
      const auto bytes = *v.as_bytes();
      s.add(kBytes);
      s.add(bytes.size());
      if (!bytes.empty()) s.add(static_cast<std::uint8_t>(bytes.front()));
      return;
    }
    case mes::ValueType::kList: {
      const auto n = v.size();
      s.add(kList);
      s.add(n);
      for (std::size_t i = 0; i < n; ++i) read_value(s, v[i]);
      return;
    }
    case mes::ValueType::kMap: {
      const auto n = v.size();
      s.add(kMap);
      s.add(n);
      for (std::size_t i = 0; i < n; ++i) {
        s.text(v.key_at(i));
        read_value(s, v[i]);
      }
      return;
    }
  }
}

void read_list(Hash& s, const mes::StringList& list) {
  s.add(list.size());
  s.add(list.is_list());
  for (const auto text : list) s.text(text);
}

void read_text(Hash& s, std::optional<std::string_view> text) {
  if (text) s.text(*text); else s.missing();
}

/// Reads every field of `m` through our getters.
std::uint64_t read_mlops(const mes::MLOpsMessage& m) {
  Hash s;
  s.add(static_cast<std::uint64_t>(m.message_type()));
  read_list(s, m.topic());
  read_text(s, m.creator());
  s.add(static_cast<std::uint64_t>(m.creator_type()));
  const auto stage = m.stage();
  s.add(stage ? 1 + static_cast<std::uint64_t>(*stage) : 0);
  read_list(s, m.next_task());
  read_text(s, m.user_message());
  s.add(static_cast<std::uint32_t>(m.retries()));
  read_list(s, m.output());
  read_list(s, m.recipient());
  const auto count = m.additional_argument_count();
  s.add(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto arg = m.additional_argument_at(i);
    s.text(arg.key);
    read_value(s, arg.value);
  }
  const auto id = m.id();
  s.add(id ? id->hi : 0);
  s.add(id ? id->lo : 0);
  const auto stamp = m.timestamp();
  s.add(stamp ? static_cast<std::uint64_t>(*stamp) : 0);
  return s.h;
}

// --- flatc: hand-written code over the generated header ---------------------------------

/// What a skilled user keeps between messages: the builders, scratch arrays, the id state.
struct FlatcWriter {
  flatbuffers::FlatBufferBuilder fbb{1024};
  // No key or string pooling, as in our builder: pooling keeps a std::set, which allocates.
  flexbuffers::Builder flex{256, flexbuffers::BUILDER_FLAG_NONE};
  std::array<flatbuffers::Offset<flatbuffers::String>, 16> strings{};
  std::array<flatbuffers::Offset<wire::Argument>, 16> args{};
  IdGenerator ids;
};

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

/// An id and a timestamp given instead of fresh ones (only for the equivalence check).
struct FixedStamp {
  wire::MessageId id;
  std::int64_t timestamp_ns;
};

/// Builds `m` into w.fbb (cleared first) and returns the finished bytes.
std::span<const std::uint8_t> build_flatc(FlatcWriter& w, const Source& m,
                                          const FixedStamp* fixed = nullptr) {
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
  const auto stage = m.stage ? flatbuffers::Optional<wire::Stage>(static_cast<wire::Stage>(*m.stage))
                             : flatbuffers::nullopt;
  const auto root = wire::CreateMessage(
      fbb, static_cast<wire::MessageType>(m.msg_type), topic, creator,
      static_cast<wire::CreatorType>(m.creator_type), stage, next_task, user_message, m.retries,
      output, recipient, args, &id, now, static_cast<wire::ListFields>(list_fields));
  wire::FinishMessageBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetSize()};
}

void read_flex(Hash& s, const flexbuffers::Reference& r) {
  switch (r.GetType()) {
    case flexbuffers::FBT_NULL: s.add(kNull); return;
    case flexbuffers::FBT_BOOL: s.add(kBool); s.add(r.AsBool()); return;
    case flexbuffers::FBT_INT: s.add(kInt); s.add(static_cast<std::uint64_t>(r.AsInt64())); return;
    case flexbuffers::FBT_FLOAT: s.add(kDouble); s.add(std::bit_cast<std::uint64_t>(r.AsDouble())); return;
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

void read_flatc_list(Hash& s, const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* list,
                     std::uint8_t flags, wire::ListFields flag) {
  s.add(list ? list->size() : 0);
  s.add((flags & static_cast<std::uint8_t>(flag)) != 0);
  if (list == nullptr) return;
  for (const auto* text : *list) s.text({text->c_str(), text->size()});
}

void read_flatc_text(Hash& s, const flatbuffers::String* text) {
  if (text) s.text({text->c_str(), text->size()}); else s.missing();
}

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

bool verify_flatc(const std::uint8_t* data, std::size_t size) {
  flatbuffers::Verifier verifier(data, size);
  return wire::VerifyMessageBuffer(verifier);
}

// --- protobuf -------------------------------------------------------------------------

void to_proto(pb::Value& out, const mes::Value& v) {
  switch (v.type()) {
    case mes::ValueType::kNull: out.set_null_value(true); return;
    case mes::ValueType::kBool: out.set_bool_value(*v.if_bool()); return;
    case mes::ValueType::kInt: out.set_int_value(*v.if_int()); return;
    case mes::ValueType::kDouble: out.set_double_value(*v.if_double()); return;
    case mes::ValueType::kString: out.set_string_value(*v.if_string()); return;
    case mes::ValueType::kBytes:
      out.set_bytes_value(static_cast<const void*>(v.if_bytes()->data()), v.if_bytes()->size());
      return;
    case mes::ValueType::kList: {
      auto* list = out.mutable_list_value();
      for (const auto& element : *v.if_list()) to_proto(*list->add_values(), element);
      return;
    }
    case mes::ValueType::kMap: {
      auto& entries = *out.mutable_map_value()->mutable_entries();
      for (const auto& [key, element] : *v.if_map()) to_proto(entries[key], element);
      return;
    }
  }
}

/// Sets every field of `p` (which must be clear) from `m`.
void fill_proto(pb::Message& p, const Source& m, IdGenerator& ids) {
  p.set_msg_type(static_cast<pb::MessageType>(m.msg_type));
  for (const auto& text : m.topic) p.add_topic(text);
  if (m.creator) p.set_creator(*m.creator);
  p.set_creator_type(static_cast<pb::CreatorType>(m.creator_type));
  if (m.stage) p.set_stage(static_cast<pb::Stage>(*m.stage));
  for (const auto& text : m.next_task) p.add_next_task(text);
  if (m.user_message) p.set_user_message(*m.user_message);
  p.set_retries(m.retries);
  for (const auto& text : m.output) p.add_output(text);
  for (const auto& text : m.recipient) p.add_recipient(text);
  if (!m.args.empty()) {
    auto& args = *p.mutable_additional_arguments();
    for (const auto& [key, value] : m.args) to_proto(args[key], value);
  }
  const std::int64_t now = IdGenerator::now_ns();
  const auto id = ids.next(now);
  p.mutable_id()->set_hi(id.hi());
  p.mutable_id()->set_lo(id.lo());
  p.set_timestamp_ns(now);
  p.set_list_fields((m.topic_is_list ? 1U : 0U) | (m.next_task_is_list ? 2U : 0U) |
                    (m.output_is_list ? 4U : 0U) | (m.recipient_is_list ? 8U : 0U));
}

/// Serialises `p` into `out` (grown if needed) and returns the bytes.
std::span<const std::uint8_t> serialize_proto(const pb::Message& p, std::vector<std::uint8_t>& out) {
  const auto size = p.ByteSizeLong();
  if (out.size() < size) out.resize(size);
  p.SerializeWithCachedSizesToArray(out.data());
  return {out.data(), size};
}

void read_proto_value(Hash& s, const pb::Value& v) {
  switch (v.kind_case()) {
    case pb::Value::kNullValue: s.add(kNull); return;
    case pb::Value::kBoolValue: s.add(kBool); s.add(v.bool_value()); return;
    case pb::Value::kIntValue: s.add(kInt); s.add(static_cast<std::uint64_t>(v.int_value())); return;
    case pb::Value::kDoubleValue: s.add(kDouble); s.add(std::bit_cast<std::uint64_t>(v.double_value())); return;
    case pb::Value::kStringValue: s.add(kString); s.text(v.string_value()); return;
    case pb::Value::kBytesValue: {
      const auto& bytes = v.bytes_value();
      s.add(kBytes);
      s.add(bytes.size());
      if (!bytes.empty()) s.add(static_cast<std::uint8_t>(bytes.front()));
      return;
    }
    case pb::Value::kListValue: {
      s.add(kList);
      s.add(static_cast<std::uint64_t>(v.list_value().values_size()));
      for (const auto& element : v.list_value().values()) read_proto_value(s, element);
      return;
    }
    case pb::Value::kMapValue: {
      s.add(kMap);
      s.add(v.map_value().entries().size());
      for (const auto& [key, element] : v.map_value().entries()) {
        s.text(key);
        read_proto_value(s, element);
      }
      return;
    }
    case pb::Value::KIND_NOT_SET: s.add(kOther); return;
  }
}

void read_proto_list(Hash& s, const google::protobuf::RepeatedPtrField<std::string>& list,
                     std::uint32_t flags, std::uint32_t flag) {
  s.add(static_cast<std::uint64_t>(list.size()));
  s.add((flags & flag) != 0);
  for (const auto& text : list) s.text(text);
}

std::uint64_t read_proto(const pb::Message& p) {
  Hash s;
  const auto flags = p.list_fields();
  s.add(static_cast<std::uint64_t>(p.msg_type()));
  read_proto_list(s, p.topic(), flags, 1);
  if (p.has_creator()) s.text(p.creator()); else s.missing();
  s.add(static_cast<std::uint64_t>(p.creator_type()));
  s.add(p.has_stage() ? 1 + static_cast<std::uint64_t>(p.stage()) : 0);
  read_proto_list(s, p.next_task(), flags, 2);
  if (p.has_user_message()) s.text(p.user_message()); else s.missing();
  s.add(static_cast<std::uint32_t>(p.retries()));
  read_proto_list(s, p.output(), flags, 4);
  read_proto_list(s, p.recipient(), flags, 8);
  s.add(p.additional_arguments().size());
  for (const auto& [key, value] : p.additional_arguments()) {
    s.text(key);
    read_proto_value(s, value);
  }
  s.add(p.id().hi());
  s.add(p.id().lo());
  s.add(static_cast<std::uint64_t>(p.timestamp_ns()));
  return s.h;
}

// --- nlohmann::json: the original system's dict, dumped and parsed ----------------------

std::string base64(std::span<const std::byte> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (std::to_integer<std::uint32_t>(bytes[i]) << 16) |
                   (std::to_integer<std::uint32_t>(bytes[i + 1]) << 8) |
                   std::to_integer<std::uint32_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    auto n = std::to_integer<std::uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

json to_json_value(const mes::Value& v) {
  switch (v.type()) {
    case mes::ValueType::kNull: return nullptr;
    case mes::ValueType::kBool: return *v.if_bool();
    case mes::ValueType::kInt: return *v.if_int();
    case mes::ValueType::kDouble: return *v.if_double();
    case mes::ValueType::kString: return *v.if_string();
    case mes::ValueType::kBytes: return base64(*v.if_bytes());  // JSON has no bytes.
    case mes::ValueType::kList: {
      json list = json::array();
      for (const auto& element : *v.if_list()) list.push_back(to_json_value(element));
      return list;
    }
    case mes::ValueType::kMap: {
      json map = json::object();
      for (const auto& [key, element] : *v.if_map()) map[key] = to_json_value(element);
      return map;
    }
  }
  return nullptr;
}

json json_list(const std::vector<std::string>& values, bool is_list) {
  if (values.empty()) return nullptr;
  if (!is_list) return values.front();
  return values;
}

std::string uuid_text(const wire::MessageId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(36, '-');
  std::size_t pos = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    const std::uint64_t word = nibble < 16 ? id.hi() : id.lo();
    text[pos++] = kHex[(word >> (60 - 4 * (nibble % 16))) & 0xF];
  }
  return text;
}

/// The original system: a dict of every attribute (None where unset), then json.dumps.
std::string dump_json(const Source& m, IdGenerator& ids) {
  const std::int64_t now = IdGenerator::now_ns();
  json args = json::object();
  for (const auto& [key, value] : m.args) args[key] = to_json_value(value);
  json j = {
      {"msg_type", mes::to_string(m.msg_type)},
      {"topic", json_list(m.topic, m.topic_is_list)},
      {"creator", m.creator ? json(*m.creator) : json(nullptr)},
      {"creator_type", mes::to_string(m.creator_type)},
      {"stage", m.stage ? json(mes::to_string(*m.stage)) : json(nullptr)},
      {"next_task", json_list(m.next_task, m.next_task_is_list)},
      {"user_message", m.user_message ? json(*m.user_message) : json(nullptr)},
      {"retries", m.retries},
      {"output", json_list(m.output, m.output_is_list)},
      {"recipient", json_list(m.recipient, m.recipient_is_list)},
      {"additional_arguments", std::move(args)},
      {"id", uuid_text(ids.next(now))},
      {"timestamp_ns", now},
  };
  return j.dump();
}

void read_json_value(Hash& s, const json& v) {
  switch (v.type()) {
    case json::value_t::null: s.add(kNull); return;
    case json::value_t::boolean: s.add(kBool); s.add(v.get<bool>()); return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: s.add(kInt); s.add(v.get<std::uint64_t>()); return;
    case json::value_t::number_float: s.add(kDouble); s.add(std::bit_cast<std::uint64_t>(v.get<double>())); return;
    case json::value_t::string: s.add(kString); s.text(v.get_ref<const std::string&>()); return;
    case json::value_t::array:
      s.add(kList);
      s.add(v.size());
      for (const auto& element : v) read_json_value(s, element);
      return;
    case json::value_t::object:
      s.add(kMap);
      s.add(v.size());
      for (const auto& [key, element] : v.items()) {
        s.text(key);
        read_json_value(s, element);
      }
      return;
    default: s.add(kOther); return;
  }
}

void read_json_list(Hash& s, const json& v) {
  if (v.is_null()) {
    s.add(0);
    s.add(0);
  } else if (v.is_string()) {
    s.add(1);
    s.add(0);
    s.text(v.get_ref<const std::string&>());
  } else {
    s.add(v.size());
    s.add(1);
    for (const auto& text : v) s.text(text.get_ref<const std::string&>());
  }
}

void read_json_text(Hash& s, const json& v) {
  if (v.is_string()) s.text(v.get_ref<const std::string&>()); else s.missing();
}

/// Parses the text and reads every field, as the original's receivers did.
std::uint64_t parse_read_json(std::string_view text) {
  const json j = json::parse(text);
  Hash s;
  s.text(j.at("msg_type").get_ref<const std::string&>());
  read_json_list(s, j.at("topic"));
  read_json_text(s, j.at("creator"));
  s.text(j.at("creator_type").get_ref<const std::string&>());
  read_json_text(s, j.at("stage"));
  read_json_list(s, j.at("next_task"));
  read_json_text(s, j.at("user_message"));
  s.add(j.at("retries").get<std::uint32_t>());
  read_json_list(s, j.at("output"));
  read_json_list(s, j.at("recipient"));
  const auto& args = j.at("additional_arguments");
  s.add(args.size());
  for (const auto& [key, value] : args.items()) {
    s.text(key);
    read_json_value(s, value);
  }
  s.text(j.at("id").get_ref<const std::string&>());
  s.add(j.at("timestamp_ns").get<std::uint64_t>());
  return s.h;
}

// --- Fixtures and counters ---------------------------------------------------------------

/// 8-byte aligned bytes, as a transport hands them over (and as borrow() requires).
struct AlignedBytes {
  std::vector<std::uint64_t> words;
  std::size_t size = 0;

  AlignedBytes() = default;
  explicit AlignedBytes(std::span<const std::uint8_t> bytes)
      : words((bytes.size() + 7) / 8), size(bytes.size()) {
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  [[nodiscard]] const std::uint8_t* data() const {
    return reinterpret_cast<const std::uint8_t*>(words.data());
  }
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {data(), size}; }
};

/// Everything a benchmark of one message reads, made before timing starts.
struct Fixture {
  Source source;
  AlignedBytes bytes;       // Built by our builder; every verify and read runs on these.
  std::string proto_bytes;  // The same message as protobuf.
  std::string json_text;    // The same message as the original's JSON.
};

/// Reports bytes, allocations per iteration and a checksum.
class Counters {
 public:
  explicit Counters(benchmark::State& state) : state_(state), start_(mlops::testing::alloc_count()) {}
  void finish(std::size_t bytes, std::uint64_t checksum) {
    const auto allocs = mlops::testing::alloc_count() - start_;
    state_.counters["allocs"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state_.counters["bytes"] = static_cast<double>(bytes);
    // 24 bits print exactly; enough to see that two implementations read the same thing.
    state_.counters["checksum"] = static_cast<double>(checksum & 0xFFFFFF);
  }

 private:
  benchmark::State& state_;
  std::uint64_t start_;
};

template <typename T>
void keep(T& value) {
  benchmark::DoNotOptimize(value);
}

// --- Benchmarks ---------------------------------------------------------------------------

// build: fills every field and finishes the message, id and timestamp included.

void mlops_build_view(benchmark::State& state, const Fixture& f, bool text_creator_type) {
  mes::MessageBuilder builder;
  fill(builder, f.source, text_creator_type);
  (void)builder.build_view();  // Grow the buffers once: the steady state is what counts.
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    builder.reset();  // the zero-allocation path: a builder keeps its fields
    fill(builder, f.source, text_creator_type);
    const auto message = builder.build_view();
    auto bytes = message.bytes();
    keep(bytes);
    size = bytes.size();
  }
  counters.finish(size, size);
}

void mlops_build_owned(benchmark::State& state, const Fixture& f) {
  mes::MessageBuilder builder;
  fill(builder, f.source);
  (void)builder.build();
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    builder.reset();  // the zero-allocation path: a builder keeps its fields
    fill(builder, f.source);
    auto message = builder.build();
    keep(message);
    size = message.bytes().size();
  }
  counters.finish(size, size);
}

void mlops_build_fresh(benchmark::State& state, const Fixture& f) {
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    mes::MessageBuilder builder;
    fill(builder, f.source);
    auto message = builder.build();
    keep(message);
    size = message.bytes().size();
  }
  counters.finish(size, size);
}

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

void protobuf_build(benchmark::State& state, const Fixture& f) {
  pb::Message message;
  IdGenerator ids;
  std::vector<std::uint8_t> out(4096);
  fill_proto(message, f.source, ids);
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    message.Clear();
    fill_proto(message, f.source, ids);
    auto bytes = serialize_proto(message, out);
    keep(bytes);
    size = bytes.size();
  }
  counters.finish(size, size);
}

// Protobuf at its best: the message on an arena whose first block is reused memory.
void protobuf_build_arena(benchmark::State& state, const Fixture& f) {
  IdGenerator ids;
  std::vector<std::uint8_t> out(4096);
  std::vector<char> block(16 * 1024);
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    google::protobuf::Arena arena(block.data(), block.size());
    auto* message = google::protobuf::Arena::CreateMessage<pb::Message>(&arena);
    fill_proto(*message, f.source, ids);
    auto bytes = serialize_proto(*message, out);
    keep(bytes);
    size = bytes.size();
  }
  counters.finish(size, size);
}

void json_build(benchmark::State& state, const Fixture& f) {
  IdGenerator ids;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto text = dump_json(f.source, ids);
    keep(text);
    size = text.size();
  }
  counters.finish(size, size);
}

// verify: untrusted bytes in, a verified message out.

void mlops_verify_borrow(benchmark::State& state, const Fixture& f) {
  auto bytes = f.bytes.span();
  bool ok = true;
  Counters counters(state);
  for (auto _ : state) {
    keep(bytes);
    auto message = mes::MLOpsMessage::borrow(bytes);
    ok = ok && message.has_value();
    keep(message);
  }
  counters.finish(bytes.size(), ok);
  if (!ok) state.SkipWithError("borrow() rejected the message");
}

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

void mlops_verify_from_bytes(benchmark::State& state, const Fixture& f) {
  auto bytes = f.bytes.span();
  bool ok = true;
  Counters counters(state);
  for (auto _ : state) {
    keep(bytes);
    auto message = mes::MLOpsMessage::from_bytes(bytes);
    ok = ok && message.has_value();
    keep(message);
  }
  counters.finish(bytes.size(), ok);
  if (!ok) state.SkipWithError("from_bytes() rejected the message");
}

// The baseline for from_bytes(): the same owned, aligned copy, then the raw Verifier.
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

void mlops_read(benchmark::State& state, const Fixture& f) {
  const auto message = *mes::MLOpsMessage::borrow(f.bytes.span());
  const auto* pointer = &message;
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(pointer);
    checksum = read_mlops(*pointer);
    keep(checksum);
  }
  counters.finish(f.bytes.size, checksum);
}

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

void mlops_verify_read(benchmark::State& state, const Fixture& f) {
  auto bytes = f.bytes.span();
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(bytes);
    const auto message = mes::MLOpsMessage::borrow(bytes);
    checksum = message ? read_mlops(*message) : 0;
    keep(checksum);
  }
  counters.finish(bytes.size(), checksum);
}

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

void protobuf_parse_read(benchmark::State& state, const Fixture& f) {
  pb::Message message;  // Reused, as a receiver would.
  std::uint64_t checksum = 0;
  const auto* data = f.proto_bytes.data();
  const auto size = static_cast<int>(f.proto_bytes.size());
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    checksum = message.ParseFromArray(data, size) ? read_proto(message) : 0;
    keep(checksum);
  }
  counters.finish(f.proto_bytes.size(), checksum);
}

void json_parse_read(benchmark::State& state, const Fixture& f) {
  std::string_view text = f.json_text;
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(text);
    checksum = parse_read_json(text);
    keep(checksum);
  }
  counters.finish(text.size(), checksum);
}

// round_trip: build, then verify (or parse) and read every field.

void mlops_round_trip(benchmark::State& state, const Fixture& f) {
  mes::MessageBuilder builder;
  fill(builder, f.source);
  (void)builder.build_view();
  std::uint64_t checksum = 0;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    builder.reset();  // the zero-allocation path: a builder keeps its fields
    fill(builder, f.source);
    auto bytes = builder.build_view().bytes();
    keep(bytes);
    const auto received = mes::MLOpsMessage::borrow(bytes);
    checksum = received ? read_mlops(*received) : 0;
    keep(checksum);
    size = bytes.size();
  }
  counters.finish(size, checksum & 0xFFF);  // The id and time change; keep the stable bits.
}

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

void protobuf_round_trip(benchmark::State& state, const Fixture& f) {
  pb::Message sent;
  pb::Message received;
  IdGenerator ids;
  std::vector<std::uint8_t> out(4096);
  std::uint64_t checksum = 0;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    sent.Clear();
    fill_proto(sent, f.source, ids);
    auto bytes = serialize_proto(sent, out);
    keep(bytes);
    checksum = received.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))
                   ? read_proto(received)
                   : 0;
    keep(checksum);
    size = bytes.size();
  }
  counters.finish(size, checksum & 0xFFF);
}

void json_round_trip(benchmark::State& state, const Fixture& f) {
  IdGenerator ids;
  std::uint64_t checksum = 0;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto text = dump_json(f.source, ids);
    keep(text);
    checksum = parse_read_json(text);
    keep(checksum);
    size = text.size();
  }
  counters.finish(size, checksum & 0xFFF);
}

// to_json: our message as JSON text (FlatBuffers' text generator and the embedded schema).

void mlops_to_json(benchmark::State& state, const Fixture& f) {
  const auto message = *mes::MLOpsMessage::borrow(f.bytes.span());
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto text = message.to_json();
    keep(text);
    size = text ? text->size() : 0;
  }
  counters.finish(size, size);
}

// copy: memcpy of the wire bytes, the physical floor.

void memcpy_copy(benchmark::State& state, const Fixture& f) {
  const auto* data = f.bytes.data();
  const auto size = f.bytes.size;
  std::vector<std::uint64_t> destination((size + 7) / 8);
  auto* out = destination.data();
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    std::memcpy(out, data, size);
    keep(out);
    benchmark::ClobberMemory();
  }
  counters.finish(size, size);
}

// --- Set-up and the fairness check -------------------------------------------------------

/// The same fields must come out of our builder and the hand-written code: given the same
/// id and timestamp, reading either message with either reader gives one checksum.
bool check_equivalence(const Fixture& f) {
  const FixedStamp fixed{wire::MessageId(0x0190B1C2D3E47F00ULL, 0x8A1B2C3D4E5F6A7BULL),
                         1'718'000'000'123'456'789};
  mes::MessageBuilder builder;
  fill(builder, f.source);
  builder.with_id({fixed.id.hi(), fixed.id.lo()}).with_timestamp(fixed.timestamp_ns);
  const AlignedBytes ours(builder.build().bytes());
  FlatcWriter writer;
  const AlignedBytes theirs(build_flatc(writer, f.source, &fixed));
  const auto ours_msg = mes::MLOpsMessage::borrow(ours.span());
  const auto theirs_msg = mes::MLOpsMessage::borrow(theirs.span());
  if (!ours_msg || !theirs_msg) {
    std::fprintf(stderr, "%s: a message failed verification (%s)\n", f.source.name.c_str(),
                 (!ours_msg ? ours_msg.error() : theirs_msg.error()).message.c_str());
    return false;
  }
  const auto a = read_mlops(*ours_msg);
  const auto b = read_flatc(ours.data());
  const auto c = read_mlops(*theirs_msg);
  const auto d = read_flatc(theirs.data());
  pb::Message proto;
  const bool proto_ok = proto.ParseFromString(f.proto_bytes);
  const bool json_ok = json::accept(f.json_text);
  const bool agree = a == b && b == c && c == d;
  std::fprintf(stderr,
               "%-4s: %zu bytes mlops, %zu bytes flatc, %zu bytes protobuf, %zu bytes JSON; "
               "mlops and flatc checksums %s\n",
               f.source.name.c_str(), ours.size, theirs.size, f.proto_bytes.size(),
               f.json_text.size(), agree ? "agree" : "DIFFER");
  return agree && proto_ok && json_ok;
}

Fixture make_fixture(Source source) {
  Fixture f;
  f.source = std::move(source);
  mes::MessageBuilder builder;
  fill(builder, f.source);
  const auto message = builder.build();
  f.bytes = AlignedBytes(message.bytes());
  pb::Message proto;
  IdGenerator ids;
  fill_proto(proto, f.source, ids);
  f.proto_bytes = proto.SerializeAsString();
  f.json_text = dump_json(f.source, ids);
  return f;
}

// A fixed iteration count for every benchmark (0: Google Benchmark decides), for profiling:
// under callgrind, instructions per iteration = the benchmark function's cost / this count.
std::int64_t g_fixed_iterations = 0;

template <typename Fn>
void add(const Fixture& f, const std::string& name, Fn fn) {
  const auto full_name = f.source.name + "/" + name;
  auto* bench = benchmark::RegisterBenchmark(full_name.c_str(),
                                             [&f, fn](benchmark::State& state) { fn(state, f); });
  if (g_fixed_iterations > 0) bench->Iterations(g_fixed_iterations);
}

void register_all(const Fixture& f) {
  add(f, "build/mlops_reused_view", [](auto& s, const auto& x) { mlops_build_view(s, x, false); });
  add(f, "build/mlops_reused_view_text_creator_type",
      [](auto& s, const auto& x) { mlops_build_view(s, x, true); });
  add(f, "build/mlops_reused_owned", mlops_build_owned);
  add(f, "build/mlops_fresh", mlops_build_fresh);
  add(f, "build/flatc_reused", flatc_build);
  add(f, "build/flatc_reused_owned", flatc_build_owned);
  add(f, "build/flatc_fresh", flatc_build_fresh);
  add(f, "build/protobuf_reused", protobuf_build);
  add(f, "build/protobuf_arena", protobuf_build_arena);
  add(f, "build/json", json_build);
  add(f, "verify/mlops_borrow", mlops_verify_borrow);
  add(f, "verify/flatc_verifier", flatc_verify);
  add(f, "verify/mlops_from_bytes", mlops_verify_from_bytes);
  add(f, "verify/flatc_copy_verifier", flatc_copy_verify);
  add(f, "read/mlops", mlops_read);
  add(f, "read/flatc", flatc_read);
  add(f, "verify_read/mlops", mlops_verify_read);
  add(f, "verify_read/flatc", flatc_verify_read);
  add(f, "verify_read/protobuf", protobuf_parse_read);
  add(f, "verify_read/json", json_parse_read);
  add(f, "round_trip/mlops", mlops_round_trip);
  add(f, "round_trip/flatc", flatc_round_trip);
  add(f, "round_trip/protobuf", protobuf_round_trip);
  add(f, "round_trip/json", json_round_trip);
  add(f, "to_json/mlops", mlops_to_json);
  add(f, "copy/memcpy", memcpy_copy);
}

}  // namespace

int main(int argc, char** argv) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  // --mlops_iterations=N (ours, taken out before Google Benchmark sees the arguments).
  constexpr std::string_view kIterationsFlag = "--mlops_iterations=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with(kIterationsFlag)) {
      g_fixed_iterations = std::stoll(std::string(arg.substr(kIterationsFlag.size())));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  // Fixtures live until exit: the registered benchmarks refer to them.
  static const Fixture seed = make_fixture(seed_message());
  static const Fixture full = make_fixture(full_message());
  if (!check_equivalence(seed) || !check_equivalence(full)) {
    std::fprintf(stderr, "mlops and the hand-written flatc code do not build the same message\n");
    return 1;
  }
  register_all(seed);
  register_all(full);
  benchmark::AddCustomContext("flatbuffers", std::to_string(FLATBUFFERS_VERSION_MAJOR) + "." +
                                                 std::to_string(FLATBUFFERS_VERSION_MINOR) + "." +
                                                 std::to_string(FLATBUFFERS_VERSION_REVISION));
  benchmark::AddCustomContext("protobuf",
                              google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
  benchmark::AddCustomContext("nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                                   std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                                   std::to_string(NLOHMANN_JSON_VERSION_PATCH));
  benchmark::AddCustomContext("seed_bytes", std::to_string(seed.bytes.size));
  benchmark::AddCustomContext("full_bytes", std::to_string(full.bytes.size));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  google::protobuf::ShutdownProtobufLibrary();
  return 0;
}
