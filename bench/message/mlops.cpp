// mlops: our MessageBuilder and MLOpsMessage, filled and read field by field.
#include "message/codecs.h"

#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mlops::bench::message {

namespace {

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

}  // namespace

/// Sets every field of `m`; `text_creator_type` uses the free-form overload ("ETL").
void fill(mes::MessageBuilder& b, const Source& m, bool text_creator_type) {
  b.with_msg_type(m.msg_type);
  if (!m.topic.empty()) {
    if (m.topic_is_list) b.with_topic(m.topic);
    else b.with_topic(m.topic.front());
  }
  if (m.creator) b.with_creator(*m.creator);
  if (text_creator_type) {
    b.with_creator_type(std::string_view(m.creator_type_text));
  } else {
    b.with_creator_type(m.creator_type);
  }
  if (m.stage) b.with_stage(*m.stage);
  if (!m.next_task.empty()) {
    if (m.next_task_is_list) b.with_next_task(m.next_task);
    else b.with_next_task(m.next_task.front());
  }
  if (m.user_message) b.with_user_msg(*m.user_message);
  b.with_retries(m.retries);
  if (!m.output.empty()) {
    if (m.output_is_list) b.with_output(m.output);
    else b.with_output(m.output.front());
  }
  if (!m.recipient.empty()) {
    if (m.recipient_is_list) b.with_recipient(m.recipient);
    else b.with_recipient(m.recipient.front());
  }
  for (const auto& [key, value] : m.args) add_argument(b, key, value);
}

namespace {

void read_value(Hash& s, const mes::ValueView& v) {
  switch (v.type()) {
    case mes::ValueType::kNull: s.add(kNull); return;
    case mes::ValueType::kBool:
      s.add(kBool);
      s.add(*v.as_bool());
      return;
    case mes::ValueType::kInt:
      s.add(kInt);
      s.add(static_cast<std::uint64_t>(*v.as_int()));
      return;
    case mes::ValueType::kDouble:
      s.add(kDouble);
      s.add(std::bit_cast<std::uint64_t>(*v.as_double()));
      return;
    case mes::ValueType::kString:
      s.add(kString);
      s.text(*v.as_string());
      return;
    case mes::ValueType::kBytes: {
      const auto bytes = *v.as_bytes();
      s.add(kBytes);
      s.add(bytes.size());
      if (!bytes.empty()) s.add(static_cast<std::uint8_t>(bytes.front()));
      return;
    }
    case mes::ValueType::kList: {
      const auto entries = v.entries();  // the list located once, as the raw code does
      const auto n = entries.size();
      s.add(kList);
      s.add(n);
      for (std::size_t i = 0; i < n; ++i) read_value(s, entries[i]);
      return;
    }
    case mes::ValueType::kMap: {
      const auto entries = v.entries();
      const auto n = entries.size();
      s.add(kMap);
      s.add(n);
      for (std::size_t i = 0; i < n; ++i) {
        s.text(entries.key(i));
        read_value(s, entries[i]);
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
  if (text) s.text(*text);
  else s.missing();
}

}  // namespace

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

void mlops_from_json(benchmark::State& state, const Fixture& f) {
  std::size_t size = 0;
  bool ok = true;
  Counters counters(state);
  for (auto _ : state) {
    auto message = mes::MessageBuilder::from_json(f.mlops_json);
    ok = ok && message.has_value();
    keep(message);
    size = message ? message->bytes().size() : 0;
  }
  counters.finish(size, size);
  if (!ok) state.SkipWithError("from_json() rejected the text");
}

}  // namespace mlops::bench::message
