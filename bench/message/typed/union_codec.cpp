// The union form: each argument's value a union of one table per kind (union_args.fbs).
#include <flatbuffers/flatbuffers.h>

#include <bit>
#include <cstdint>
#include <span>
#include <utility>

#include "message/typed/typed.h"

namespace mlops::bench::message {

namespace {

using ValueRef = std::pair<tu::Value, flatbuffers::Offset<void>>;

ValueRef encode(UnionWriter& w, const mes::Value& v);

flatbuffers::Offset<tu::Argument> entry(UnionWriter& w, std::string_view key, const mes::Value& v) {
  const auto key_offset = w.fbb.CreateString(key.data(), key.size());
  const auto [type, value] = encode(w, v);
  return tu::CreateArgument(w.fbb, key_offset, type, value);
}

ValueRef encode(UnionWriter& w, const mes::Value& v) {
  auto& fbb = w.fbb;
  switch (v.type()) {
    case mes::ValueType::kNull: return {tu::Value::NullValue, tu::CreateNullValue(fbb).Union()};
    case mes::ValueType::kBool:
      return {tu::Value::BoolValue, tu::CreateBoolValue(fbb, *v.if_bool()).Union()};
    case mes::ValueType::kInt:
      return {tu::Value::IntValue, tu::CreateIntValue(fbb, *v.if_int()).Union()};
    case mes::ValueType::kDouble:
      return {tu::Value::DoubleValue, tu::CreateDoubleValue(fbb, *v.if_double()).Union()};
    case mes::ValueType::kString: {
      const auto text = fbb.CreateString(v.if_string()->data(), v.if_string()->size());
      return {tu::Value::StringValue, tu::CreateStringValue(fbb, text).Union()};
    }
    case mes::ValueType::kBytes: {
      const auto& bytes = *v.if_bytes();
      const auto data =
          fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      return {tu::Value::BytesValue, tu::CreateBytesValue(fbb, data).Union()};
    }
    case mes::ValueType::kList: {
      // Children on the scratch stacks until both vectors are written, then popped.
      const auto start = w.items.size();
      for (const auto& element : *v.if_list()) {
        const auto [type, value] = encode(w, element);
        w.item_types.push_back(type);
        w.items.push_back(value);
      }
      const auto count = w.items.size() - start;
      const auto types = fbb.CreateVector(w.item_types.data() + start, count);
      const auto items = fbb.CreateVector(w.items.data() + start, count);
      w.item_types.resize(start);
      w.items.resize(start);
      return {tu::Value::ListValue, tu::CreateListValue(fbb, types, items).Union()};
    }
    case mes::ValueType::kMap: {
      // std::map iterates in key order: the entries come out sorted.
      const auto start = w.entries.size();
      for (const auto& [key, element] : *v.if_map()) w.entries.push_back(entry(w, key, element));
      const auto entries = fbb.CreateVector(w.entries.data() + start, w.entries.size() - start);
      w.entries.resize(start);
      return {tu::Value::MapValue, tu::CreateMapValue(fbb, entries).Union()};
    }
  }
  return {tu::Value::NONE, 0};
}

void read_value(Hash& s, tu::Value type, const void* value) {
  // The Verifier accepts a union whose type is set and whose value is absent.
  if (value == nullptr) type = tu::Value::NONE;
  switch (type) {
    case tu::Value::NONE:
    case tu::Value::NullValue: s.add(kNull); return;
    case tu::Value::BoolValue:
      s.add(kBool);
      s.add(static_cast<const tu::BoolValue*>(value)->value());
      return;
    case tu::Value::IntValue:
      s.add(kInt);
      s.add(static_cast<std::uint64_t>(static_cast<const tu::IntValue*>(value)->value()));
      return;
    case tu::Value::DoubleValue:
      s.add(kDouble);
      s.add(std::bit_cast<std::uint64_t>(static_cast<const tu::DoubleValue*>(value)->value()));
      return;
    case tu::Value::StringValue: {
      const auto* text = static_cast<const tu::StringValue*>(value)->value();
      s.add(kString);
      s.text(text ? std::string_view(text->c_str(), text->size()) : std::string_view());
      return;
    }
    case tu::Value::BytesValue: {
      const auto* bytes = static_cast<const tu::BytesValue*>(value)->value();
      s.add(kBytes);
      s.add(bytes ? bytes->size() : 0);
      if (bytes && bytes->size() != 0) s.add(bytes->Get(0));
      return;
    }
    case tu::Value::ListValue: {
      // The Verifier checked that both vectors are there together and of one size.
      const auto* list = static_cast<const tu::ListValue*>(value);
      const auto* types = list->items_type();
      const auto* items = list->items();
      s.add(kList);
      s.add(items ? items->size() : 0);
      if (items == nullptr) return;
      for (flatbuffers::uoffset_t i = 0; i < items->size(); ++i) {
        read_value(s, types->GetEnum<tu::Value>(i), items->Get(i));
      }
      return;
    }
    case tu::Value::MapValue: {
      const auto* entries = static_cast<const tu::MapValue*>(value)->entries();
      s.add(kMap);
      s.add(entries ? entries->size() : 0);
      if (entries == nullptr) return;
      for (const auto* e : *entries) {
        s.text({e->key()->c_str(), e->key()->size()});
        read_value(s, e->value_type(), e->value());
      }
      return;
    }
  }
  s.add(kOther);  // A kind added after this reader: unrecognized, not an error.
}

}  // namespace

UnionWriter::UnionWriter() {
  items.reserve(64);
  item_types.reserve(64);
  entries.reserve(64);
}

std::span<const std::uint8_t> build_union(UnionWriter& w, const Source& m,
                                          const FixedStamp* fixed) {
  auto& fbb = w.fbb;
  fbb.Clear();
  const auto common = build_common(fbb, w.fields, m);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<tu::Argument>>> args = 0;
  if (!m.args.empty()) {
    for (std::size_t i = 0; i < m.args.size(); ++i) {
      w.args[i] = entry(w, m.args[i].first, m.args[i].second);
    }
    sort_by_key(fbb, w.args.data(), m.args.size());
    args = fbb.CreateVector(w.args.data(), m.args.size());
  }
  const auto when = stamp(w.ids, fixed);
  const tu::MessageId id(when.id.hi(), when.id.lo());
  const auto root = tu::CreateMessage(
      fbb, static_cast<std::int8_t>(m.msg_type), common.topic, common.creator,
      static_cast<std::int8_t>(m.creator_type), stage_of(m), common.next_task, common.user_message,
      m.retries, common.output, common.recipient, 0, &id, when.now, list_fields(m), 0, 0, args);
  tu::FinishMessageBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetSize()};
}

bool verify_union(const std::uint8_t* data, std::size_t size) {
  flatbuffers::Verifier verifier(data, size);
  return tu::VerifyMessageBuffer(verifier);
}

std::uint64_t read_union(const std::uint8_t* data) {
  return read_message(tu::GetMessage(data), [](Hash& s, const tu::Message* m) {
    const auto* args = m->arguments();
    s.add(args ? args->size() : 0);
    if (args == nullptr) return;
    for (const auto* arg : *args) {
      s.text({arg->key()->c_str(), arg->key()->size()});
      read_value(s, arg->value_type(), arg->value());
    }
  });
}

}  // namespace mlops::bench::message
