// The tagged form: each argument one table, a kind and one field per kind (tagged_args.fbs).
#include <flatbuffers/flatbuffers.h>

#include <bit>
#include <cstdint>
#include <span>

#include "message/typed/typed.h"

namespace mlops::bench::message {

namespace {

/// A value's fields, children written first (FlatBuffers builds bottom-up).
struct Parts {
  tg::Kind kind = tg::Kind::Null;
  std::int64_t int_value = 0;
  double double_value = 0;
  flatbuffers::Offset<flatbuffers::String> text = 0;
  flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> bytes = 0;
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<tg::Item>>> list = 0;
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<tg::Argument>>> map = 0;
};

Parts encode(TaggedWriter& w, const mes::Value& v);

flatbuffers::Offset<tg::Argument> argument(TaggedWriter& w, std::string_view key,
                                           const mes::Value& v) {
  const auto key_offset = w.fbb.CreateString(key.data(), key.size());
  const Parts p = encode(w, v);
  return tg::CreateArgument(w.fbb, key_offset, p.kind, p.int_value, p.double_value, p.text, p.bytes,
                            p.list, p.map);
}

flatbuffers::Offset<tg::Item> item(TaggedWriter& w, const mes::Value& v) {
  const Parts p = encode(w, v);
  return tg::CreateItem(w.fbb, p.kind, p.int_value, p.double_value, p.text, p.bytes, p.list, p.map);
}

Parts encode(TaggedWriter& w, const mes::Value& v) {
  auto& fbb = w.fbb;
  Parts p;
  switch (v.type()) {
    case mes::ValueType::kNull: break;
    case mes::ValueType::kBool:
      p.kind = tg::Kind::Bool;
      p.int_value = *v.if_bool() ? 1 : 0;
      break;
    case mes::ValueType::kInt:
      p.kind = tg::Kind::Int;
      p.int_value = *v.if_int();
      break;
    case mes::ValueType::kDouble:
      p.kind = tg::Kind::Double;
      p.double_value = *v.if_double();
      break;
    case mes::ValueType::kString:
      p.kind = tg::Kind::String;
      p.text = fbb.CreateString(v.if_string()->data(), v.if_string()->size());
      break;
    case mes::ValueType::kBytes: {
      const auto& bytes = *v.if_bytes();
      p.kind = tg::Kind::Bytes;
      p.bytes = fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      break;
    }
    case mes::ValueType::kList: {
      // Children on the scratch stack until their vector is written, then popped.
      const auto start = w.items.size();
      for (const auto& element : *v.if_list()) w.items.push_back(item(w, element));
      p.kind = tg::Kind::List;
      p.list = fbb.CreateVector(w.items.data() + start, w.items.size() - start);
      w.items.resize(start);
      break;
    }
    case mes::ValueType::kMap: {
      // std::map iterates in key order: the entries come out sorted.
      const auto start = w.entries.size();
      for (const auto& [key, element] : *v.if_map()) {
        w.entries.push_back(argument(w, key, element));
      }
      p.kind = tg::Kind::Map;
      p.map = fbb.CreateVector(w.entries.data() + start, w.entries.size() - start);
      w.entries.resize(start);
      break;
    }
  }
  return p;
}

/// Items and arguments have the same value fields; an absent field reads as empty.
template <typename Table>
void read_value(Hash& s, const Table* v) {
  switch (v->kind()) {
    case tg::Kind::Null: s.add(kNull); return;
    case tg::Kind::Bool:
      s.add(kBool);
      s.add(v->int_value() != 0);
      return;
    case tg::Kind::Int:
      s.add(kInt);
      s.add(static_cast<std::uint64_t>(v->int_value()));
      return;
    case tg::Kind::Double:
      s.add(kDouble);
      s.add(std::bit_cast<std::uint64_t>(v->double_value()));
      return;
    case tg::Kind::String: {
      const auto* text = v->text();
      s.add(kString);
      s.text(text ? std::string_view(text->c_str(), text->size()) : std::string_view());
      return;
    }
    case tg::Kind::Bytes: {
      const auto* bytes = v->bytes();
      s.add(kBytes);
      s.add(bytes ? bytes->size() : 0);
      if (bytes && bytes->size() != 0) s.add(bytes->Get(0));
      return;
    }
    case tg::Kind::List: {
      const auto* list = v->list();
      s.add(kList);
      s.add(list ? list->size() : 0);
      if (list == nullptr) return;
      for (const auto* element : *list) read_value(s, element);
      return;
    }
    case tg::Kind::Map: {
      const auto* map = v->map();
      s.add(kMap);
      s.add(map ? map->size() : 0);
      if (map == nullptr) return;
      for (const auto* e : *map) {
        s.text({e->key()->c_str(), e->key()->size()});
        read_value(s, e);
      }
      return;
    }
  }
  s.add(kOther);  // A kind added after this reader: unrecognized, not an error.
}

}  // namespace

TaggedWriter::TaggedWriter() {
  items.reserve(64);
  entries.reserve(64);
}

std::span<const std::uint8_t> build_tagged(TaggedWriter& w, const Source& m,
                                           const FixedStamp* fixed) {
  auto& fbb = w.fbb;
  fbb.Clear();
  const auto common = build_common(fbb, w.fields, m);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<tg::Argument>>> args = 0;
  if (!m.args.empty()) {
    for (std::size_t i = 0; i < m.args.size(); ++i) {
      w.args[i] = argument(w, m.args[i].first, m.args[i].second);
    }
    sort_by_key(fbb, w.args.data(), m.args.size());
    args = fbb.CreateVector(w.args.data(), m.args.size());
  }
  const auto when = stamp(w.ids, fixed);
  const tg::MessageId id(when.id.hi(), when.id.lo());
  const auto root = tg::CreateMessage(
      fbb, static_cast<std::int8_t>(m.msg_type), common.topic, common.creator,
      static_cast<std::int8_t>(m.creator_type), stage_of(m), common.next_task, common.user_message,
      m.retries, common.output, common.recipient, 0, &id, when.now, list_fields(m), 0, 0, args);
  tg::FinishMessageBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetSize()};
}

bool verify_tagged(const std::uint8_t* data, std::size_t size) {
  flatbuffers::Verifier verifier(data, size);
  return tg::VerifyMessageBuffer(verifier);
}

std::uint64_t read_tagged(const std::uint8_t* data) {
  return read_message(tg::GetMessage(data), [](Hash& s, const tg::Message* m) {
    const auto* args = m->arguments();
    s.add(args ? args->size() : 0);
    if (args == nullptr) return;
    for (const auto* arg : *args) {
      s.text({arg->key()->c_str(), arg->key()->size()});
      read_value(s, arg);
    }
  });
}

}  // namespace mlops::bench::message
