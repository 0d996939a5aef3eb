// protobuf: the same message in message_bench.proto.
#include "message/codecs.h"

#include <google/protobuf/arena.h>

#include <bit>
#include <cstdint>
#include <span>
#include <vector>

namespace mlops::bench::message {

namespace {

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

}  // namespace

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

namespace {

/// Serialises `p` into `out` (grown if needed) and returns the bytes.
std::span<const std::uint8_t> serialize_proto(const pb::Message& p,
                                              std::vector<std::uint8_t>& out) {
  const auto size = p.ByteSizeLong();
  if (out.size() < size) out.resize(size);
  p.SerializeWithCachedSizesToArray(out.data());
  return {out.data(), size};
}

void read_proto_value(Hash& s, const pb::Value& v) {
  switch (v.kind_case()) {
    case pb::Value::kNullValue: s.add(kNull); return;
    case pb::Value::kBoolValue:
      s.add(kBool);
      s.add(v.bool_value());
      return;
    case pb::Value::kIntValue:
      s.add(kInt);
      s.add(static_cast<std::uint64_t>(v.int_value()));
      return;
    case pb::Value::kDoubleValue:
      s.add(kDouble);
      s.add(std::bit_cast<std::uint64_t>(v.double_value()));
      return;
    case pb::Value::kStringValue:
      s.add(kString);
      s.text(v.string_value());
      return;
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
  if (p.has_creator()) s.text(p.creator());
  else s.missing();
  s.add(static_cast<std::uint64_t>(p.creator_type()));
  s.add(p.has_stage() ? 1 + static_cast<std::uint64_t>(p.stage()) : 0);
  read_proto_list(s, p.next_task(), flags, 2);
  if (p.has_user_message()) s.text(p.user_message());
  else s.missing();
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

}  // namespace

// build: fills every field and finishes the message, id and timestamp included.

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

// verify_read: what a receiver does with the bytes it was handed.

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

// round_trip: build, then verify (or parse) and read every field.

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

}  // namespace mlops::bench::message
