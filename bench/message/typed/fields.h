#pragma once
// The fields every prototype message shares with the real schema (ids 0-15, additional
// arguments aside): written and read exactly as flatc.cpp does, so that only the
// arguments' encoding differs between the forms measured.

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "message/codecs.h"

namespace mlops::bench::message {

using StringList = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

struct FieldScratch {
  std::array<flatbuffers::Offset<flatbuffers::String>, 16> strings{};
};

struct CommonOffsets {
  flatbuffers::Offset<StringList> topic, next_task, output, recipient;
  flatbuffers::Offset<flatbuffers::String> creator, user_message;
};

inline flatbuffers::Offset<StringList> string_list(flatbuffers::FlatBufferBuilder& fbb,
                                                   FieldScratch& scratch,
                                                   const std::vector<std::string>& values) {
  if (values.empty()) return 0;
  for (std::size_t i = 0; i < values.size(); ++i) scratch.strings[i] = fbb.CreateString(values[i]);
  return fbb.CreateVector(scratch.strings.data(), values.size());
}

/// The strings and string lists, created before the arguments as in flatc.cpp.
inline CommonOffsets build_common(flatbuffers::FlatBufferBuilder& fbb, FieldScratch& scratch,
                                  const Source& m) {
  CommonOffsets o;
  o.topic = string_list(fbb, scratch, m.topic);
  o.creator = m.creator ? fbb.CreateString(*m.creator) : 0;
  o.next_task = string_list(fbb, scratch, m.next_task);
  o.user_message = m.user_message ? fbb.CreateString(*m.user_message) : 0;
  o.output = string_list(fbb, scratch, m.output);
  o.recipient = string_list(fbb, scratch, m.recipient);
  return o;
}

struct Stamp {
  std::int64_t now;
  wire::MessageId id;
};

inline Stamp stamp(IdGenerator& ids, const FixedStamp* fixed) {
  const std::int64_t now = fixed ? fixed->timestamp_ns : IdGenerator::now_ns();
  return {now, fixed ? fixed->id : ids.next(now)};
}

/// Out of line: inlined, g++ 12 warns that the optional's value may be used uninitialized
/// (its known false positive on std::optional, GCC bug 80635).
[[gnu::noinline]] inline flatbuffers::Optional<std::int8_t> stage_of(const Source& m) {
  if (!m.stage) return flatbuffers::nullopt;
  return static_cast<std::int8_t>(*m.stage);
}

inline std::uint8_t list_fields(const Source& m) {
  std::uint8_t flags = 0;
  if (m.topic_is_list) flags |= static_cast<std::uint8_t>(wire::ListFields::topic);
  if (m.next_task_is_list) flags |= static_cast<std::uint8_t>(wire::ListFields::next_task);
  if (m.output_is_list) flags |= static_cast<std::uint8_t>(wire::ListFields::output);
  if (m.recipient_is_list) flags |= static_cast<std::uint8_t>(wire::ListFields::recipient);
  return flags;
}

/// Sorts the arguments' tables by key in place: std::sort, as flatc.cpp (stable_sort would
/// allocate).
template <typename Table>
void sort_by_key(flatbuffers::FlatBufferBuilder& fbb, flatbuffers::Offset<Table>* first,
                 std::size_t count) {
  const auto key_of = [&](flatbuffers::Offset<Table> t) {
    const auto* key = flatbuffers::GetTemporaryPointer(fbb, t)->key();
    return std::string_view(key->c_str(), key->size());
  };
  std::sort(first, first + count, [&](auto a, auto b) { return key_of(a) < key_of(b); });
}

inline void read_list(Hash& s, const StringList* list, std::uint8_t flags, wire::ListFields flag) {
  s.add(list ? list->size() : 0);
  s.add((flags & static_cast<std::uint8_t>(flag)) != 0);
  if (list == nullptr) return;
  for (const auto* text : *list) s.text({text->c_str(), text->size()});
}

inline void read_text(Hash& s, const flatbuffers::String* text) {
  if (text) s.text({text->c_str(), text->size()});
  else s.missing();
}

/// Every field in read_flatc's order; `read_arguments(s, m)` reads the arguments.
template <typename Message, typename ReadArguments>
std::uint64_t read_message(const Message* m, ReadArguments read_arguments) {
  const auto flags = m->list_fields();
  Hash s;
  s.add(static_cast<std::uint64_t>(m->msg_type()));
  read_list(s, m->topic(), flags, wire::ListFields::topic);
  read_text(s, m->creator());
  s.add(static_cast<std::uint64_t>(m->creator_type()));
  const auto stage = m->stage();
  s.add(stage.has_value() ? 1 + static_cast<std::uint64_t>(*stage) : 0);
  read_list(s, m->next_task(), flags, wire::ListFields::next_task);
  read_text(s, m->user_message());
  s.add(static_cast<std::uint32_t>(m->retries()));
  read_list(s, m->output(), flags, wire::ListFields::output);
  read_list(s, m->recipient(), flags, wire::ListFields::recipient);
  read_arguments(s, m);
  const auto* id = m->id();
  s.add(id ? id->hi() : 0);
  s.add(id ? id->lo() : 0);
  const auto when = m->timestamp_ns();
  s.add(when.has_value() ? static_cast<std::uint64_t>(*when) : 0);
  return s.h;
}

}  // namespace mlops::bench::message
