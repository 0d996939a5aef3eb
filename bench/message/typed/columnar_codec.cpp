// The columnar form: a map or list is one Values table of parallel vectors
// (columnar_args.fbs); what the generated Verifier cannot see (the vectors' lengths agree,
// every index is in range, the structs are aligned) verify_columnar checks after it.
#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <numeric>
#include <span>

#include "message/typed/typed.h"

namespace mlops::bench::message {

namespace {

/// Where one Values' entries start on the writer's scratch stacks.
struct Frame {
  std::size_t keys, kinds, texts, blobs, lists, maps;
};

Frame open(const ColumnarWriter& w) {
  return {w.keys.size(),  w.kinds.size(), w.texts.size(),
          w.blobs.size(), w.lists.size(), w.maps.size()};
}

template <typename T>
flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<T>>> pop_vector(
    flatbuffers::FlatBufferBuilder& fbb, std::vector<flatbuffers::Offset<T>>& stack,
    std::size_t start) {
  if (stack.size() == start) return 0;
  const auto vector = fbb.CreateVector(stack.data() + start, stack.size() - start);
  stack.resize(start);
  return vector;
}

/// Writes the entries pushed since `f` as one Values table and pops them.
flatbuffers::Offset<cl::Values> close(ColumnarWriter& w, const Frame& f) {
  auto& fbb = w.fbb;
  const auto count = w.kinds.size() - f.kinds;
  const auto keys = pop_vector(fbb, w.keys, f.keys);
  const auto kinds = fbb.CreateVector(w.kinds.data() + f.kinds, count);
  const auto scalars = fbb.CreateVectorOfStructs(w.scalars.data() + f.kinds, count);
  w.kinds.resize(f.kinds);
  w.scalars.resize(f.kinds);
  const auto texts = pop_vector(fbb, w.texts, f.texts);
  const auto blobs = pop_vector(fbb, w.blobs, f.blobs);
  const auto lists = pop_vector(fbb, w.lists, f.lists);
  const auto maps = pop_vector(fbb, w.maps, f.maps);
  return cl::CreateValues(fbb, keys, kinds, scalars, texts, blobs, lists, maps);
}

void add(ColumnarWriter& w, const Frame& f, const mes::Value& v);

flatbuffers::Offset<cl::Values> encode_list(ColumnarWriter& w, const mes::Value::List& list) {
  const Frame f = open(w);
  for (const auto& element : list) add(w, f, element);
  return close(w, f);
}

flatbuffers::Offset<cl::Values> encode_map(ColumnarWriter& w, const mes::Value::Map& map) {
  const Frame f = open(w);  // std::map iterates in key order: the keys come out sorted.
  for (const auto& [key, element] : map) {
    w.keys.push_back(w.fbb.CreateString(key.data(), key.size()));
    add(w, f, element);
  }
  return close(w, f);
}

/// Pushes one entry's kind and scalar; its string, bytes, list or map first, by index.
void add(ColumnarWriter& w, const Frame& f, const mes::Value& v) {
  auto& fbb = w.fbb;
  cl::Kind kind = cl::Kind::Null;
  std::int64_t number = 0;
  double real = 0;
  switch (v.type()) {
    case mes::ValueType::kNull: break;
    case mes::ValueType::kBool:
      kind = cl::Kind::Bool;
      number = *v.if_bool() ? 1 : 0;
      break;
    case mes::ValueType::kInt:
      kind = cl::Kind::Int;
      number = *v.if_int();
      break;
    case mes::ValueType::kDouble:
      kind = cl::Kind::Double;
      real = *v.if_double();
      break;
    case mes::ValueType::kString:
      kind = cl::Kind::String;
      number = static_cast<std::int64_t>(w.texts.size() - f.texts);
      w.texts.push_back(fbb.CreateString(v.if_string()->data(), v.if_string()->size()));
      break;
    case mes::ValueType::kBytes: {
      const auto& bytes = *v.if_bytes();
      const auto data =
          fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      kind = cl::Kind::Bytes;
      number = static_cast<std::int64_t>(w.blobs.size() - f.blobs);
      w.blobs.push_back(cl::CreateBlob(fbb, data));
      break;
    }
    case mes::ValueType::kList: {
      const auto list = encode_list(w, *v.if_list());  // Pops what it pushed.
      kind = cl::Kind::List;
      number = static_cast<std::int64_t>(w.lists.size() - f.lists);
      w.lists.push_back(list);
      break;
    }
    case mes::ValueType::kMap: {
      const auto map = encode_map(w, *v.if_map());
      kind = cl::Kind::Map;
      number = static_cast<std::int64_t>(w.maps.size() - f.maps);
      w.maps.push_back(map);
      break;
    }
  }
  w.kinds.push_back(kind);
  w.scalars.emplace_back(number, real);
}

template <typename T>
flatbuffers::uoffset_t size_of(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

bool in_range(std::int64_t index, flatbuffers::uoffset_t size) {
  return index >= 0 && index < static_cast<std::int64_t>(size);
}

/// What the generated Verifier does not check. Visits what it visited, so its depth and
/// table limits bound this recursion too.
bool check_values(const cl::Values* v, bool keyed) {
  const auto count = size_of(v->kinds());
  if (size_of(v->scalars()) != count) return false;
  // The Verifier checks a vector's length field's alignment, not its structs' (8 bytes).
  if (v->scalars() != nullptr &&
      reinterpret_cast<std::uintptr_t>(v->scalars()->Data()) % alignof(cl::Scalar) != 0) {
    return false;
  }
  if (keyed ? size_of(v->keys()) != count : v->keys() != nullptr) return false;
  for (flatbuffers::uoffset_t i = 0; i < count; ++i) {
    const auto index = v->scalars()->Get(i)->int_value();
    switch (v->kinds()->Get(i)) {
      case cl::Kind::String:
        if (!in_range(index, size_of(v->texts()))) return false;
        break;
      case cl::Kind::Bytes:
        if (!in_range(index, size_of(v->blobs()))) return false;
        break;
      case cl::Kind::List:
        if (!in_range(index, size_of(v->lists()))) return false;
        break;
      case cl::Kind::Map:
        if (!in_range(index, size_of(v->maps()))) return false;
        break;
      default: break;  // Scalars, null and kinds added later carry no index.
    }
  }
  if (v->lists()) {
    for (const auto* list : *v->lists()) {
      if (!check_values(list, false)) return false;
    }
  }
  if (v->maps()) {
    for (const auto* map : *v->maps()) {
      if (!check_values(map, true)) return false;
    }
  }
  return true;
}

void read_entries(Hash& s, const cl::Values* v, bool keyed);

void read_entry(Hash& s, const cl::Values* v, flatbuffers::uoffset_t i) {
  const auto* scalar = v->scalars()->Get(i);
  const auto index = static_cast<flatbuffers::uoffset_t>(scalar->int_value());
  switch (v->kinds()->Get(i)) {
    case cl::Kind::Null: s.add(kNull); return;
    case cl::Kind::Bool:
      s.add(kBool);
      s.add(scalar->int_value() != 0);
      return;
    case cl::Kind::Int:
      s.add(kInt);
      s.add(static_cast<std::uint64_t>(scalar->int_value()));
      return;
    case cl::Kind::Double:
      s.add(kDouble);
      s.add(std::bit_cast<std::uint64_t>(scalar->double_value()));
      return;
    case cl::Kind::String: {
      const auto* text = v->texts()->Get(index);
      s.add(kString);
      s.text({text->c_str(), text->size()});
      return;
    }
    case cl::Kind::Bytes: {
      const auto* bytes = v->blobs()->Get(index)->data();
      s.add(kBytes);
      s.add(bytes ? bytes->size() : 0);
      if (bytes && bytes->size() != 0) s.add(bytes->Get(0));
      return;
    }
    case cl::Kind::List: {
      const auto* list = v->lists()->Get(index);
      s.add(kList);
      s.add(size_of(list->kinds()));
      read_entries(s, list, false);
      return;
    }
    case cl::Kind::Map: {
      const auto* map = v->maps()->Get(index);
      s.add(kMap);
      s.add(size_of(map->kinds()));
      read_entries(s, map, true);
      return;
    }
  }
  s.add(kOther);  // A kind added after this reader: unrecognized, not an error.
}

void read_entries(Hash& s, const cl::Values* v, bool keyed) {
  const auto count = size_of(v->kinds());
  for (flatbuffers::uoffset_t i = 0; i < count; ++i) {
    if (keyed) s.text({v->keys()->Get(i)->c_str(), v->keys()->Get(i)->size()});
    read_entry(s, v, i);
  }
}

}  // namespace

ColumnarWriter::ColumnarWriter() {
  keys.reserve(64);
  kinds.reserve(64);
  scalars.reserve(64);
  texts.reserve(64);
  blobs.reserve(16);
  lists.reserve(16);
  maps.reserve(16);
}

std::span<const std::uint8_t> build_columnar(ColumnarWriter& w, const Source& m,
                                             const FixedStamp* fixed) {
  auto& fbb = w.fbb;
  fbb.Clear();
  const auto common = build_common(fbb, w.fields, m);
  flatbuffers::Offset<cl::Values> args = 0;
  if (!m.args.empty()) {
    // Sorted by key before anything is written, so the columns are written once, in order.
    const auto order = std::span(w.order).first(m.args.size());
    std::iota(order.begin(), order.end(), std::uint8_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::uint8_t a, std::uint8_t b) { return m.args[a].first < m.args[b].first; });
    const Frame f = open(w);
    for (const auto i : order) {
      w.keys.push_back(fbb.CreateString(m.args[i].first));
      add(w, f, m.args[i].second);
    }
    args = close(w, f);
  }
  const auto when = stamp(w.ids, fixed);
  const cl::MessageId id(when.id.hi(), when.id.lo());
  const auto root = cl::CreateMessage(
      fbb, static_cast<std::int8_t>(m.msg_type), common.topic, common.creator,
      static_cast<std::int8_t>(m.creator_type), stage_of(m), common.next_task, common.user_message,
      m.retries, common.output, common.recipient, 0, &id, when.now, list_fields(m), 0, 0, args);
  cl::FinishMessageBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetSize()};
}

bool verify_columnar(const std::uint8_t* data, std::size_t size) {
  flatbuffers::Verifier verifier(data, size);
  if (!cl::VerifyMessageBuffer(verifier)) return false;
  const auto* args = cl::GetMessage(data)->arguments();
  return args == nullptr || check_values(args, true);
}

std::uint64_t read_columnar(const std::uint8_t* data) {
  return read_message(cl::GetMessage(data), [](Hash& s, const cl::Message* m) {
    const auto* args = m->arguments();
    s.add(args ? size_of(args->kinds()) : 0);
    if (args != nullptr) read_entries(s, args, true);
  });
}

std::optional<std::size_t> find_columnar(const std::uint8_t* data, std::string_view key) {
  const auto* args = cl::GetMessage(data)->arguments();
  if (args == nullptr || args->keys() == nullptr) return std::nullopt;
  const auto* keys = args->keys();
  const auto it = std::lower_bound(keys->begin(), keys->end(), key,
                                   [](const flatbuffers::String* k, std::string_view wanted) {
                                     return std::string_view(k->c_str(), k->size()) < wanted;
                                   });
  if (it == keys->end() || std::string_view(it->c_str(), it->size()) != key) return std::nullopt;
  return static_cast<std::size_t>(it - keys->begin());
}

}  // namespace mlops::bench::message
