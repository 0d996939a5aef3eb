#include "mlops/messaging/message_builder.h"

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/flexbuffers.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "messaging/owned_buffer.h"
#include "messaging/value_encoding.h"
#include "mlops/messaging/detail/mlops_message_generated.h"
#include "mlops/messaging/trace_context.h"

namespace mlops::messaging {
namespace {

using flatbuffers::uoffset_t;

constexpr std::size_t kDefaultCapacity = 1024;
// Nested FlexBuffers read scalars of up to 8 bytes in place.
constexpr std::size_t kFlexAlignment = 8;
// Room for the table, vtable and root offset on top of the fields' bytes.
constexpr std::size_t kTableOverhead = 256;

// A builder keeps its fields after build(): an overwritten field leaves zeroed bytes behind
// (and its argument table, vtable and padding, which nobody counts). Once the fields take
// twice their size after the last compaction plus this slack, they are copied into a fresh
// buffer: a reused builder's messages stay within about twice a fresh one's size, and the
// copying costs one build per doubling.
constexpr std::size_t kCompactSlack = 256;

// FlatBufferBuilder with one more operation: drop what finish() appended (the arguments
// vector, the table, its vtable, the root offset), so the fields written before it serve
// the next message. Finish() clears the vtable scratch, so no later table can share a
// vtable from the dropped part.
class ReopenableBuilder : public flatbuffers::FlatBufferBuilder {
 public:
  using FlatBufferBuilder::FlatBufferBuilder;
  void reopen(uoffset_t size) noexcept {
    buf_.pop(buf_.size() - size);
    finished = false;
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return buf_.capacity(); }
};

// A spare State keeps its buffers only while they are this small: one huge message must
// not pin its memory in every thread that ever built one.
constexpr std::size_t kMaxSpareBytes = std::size_t{64} << 10;

// The additional arguments were given as an empty map (see the schema's ListFields).
constexpr auto kEmptyMapFlag = static_cast<std::uint8_t>(wire::ListFields::additional_arguments);

constexpr std::array<wire::ListFields, 4> kListFlags = {
    wire::ListFields::topic, wire::ListFields::next_task, wire::ListFields::output,
    wire::ListFields::recipient};

}  // namespace

// Offsets of objects already written into `fbb` (0 = unset), plus the scalars that go
// into the table at build(). Objects are written as each with_* is called; an
// overwritten object is wiped in place and left behind as zeroed, unreferenced bytes.
struct MessageBuilder::State {
  explicit State(std::size_t capacity) : fbb(capacity) {}

  ReopenableBuilder fbb;
  // No key or string pooling: pooling keeps a std::set, which allocates per key.
  flexbuffers::Builder flex{256, flexbuffers::BUILDER_FLAG_NONE};
  // The largest argument `flex` has encoded: its buffer's capacity cannot be read unless it
  // is finished (an assertion), and it may not be when a value's encoding threw.
  std::size_t flex_peak = 0;
  bool finished = false;       // fbb holds a finished message (build(), build_view()).
  uoffset_t open_size = 0;     // fbb's size before finish(): where reopening goes back to.
  uoffset_t compact_size = 0;  // open_size at the first finish() after a fresh start.

  uoffset_t creator = 0;
  uoffset_t user_message = 0;
  uoffset_t key = 0;
  uoffset_t trace_context = 0;
  std::array<uoffset_t, 4> lists{};
  std::uint8_t list_flags = 0;

  MessageType msg_type = MessageType::OTHER;
  CreatorType creator_type = CreatorType::UNKNOWN;
  std::optional<Stage> stage;
  std::int32_t retries = 0;
  std::optional<MessageId> id;
  std::optional<std::int64_t> timestamp;

  struct Arg {
    uoffset_t key;
    uoffset_t value;
    uoffset_t table;
  };
  std::vector<Arg> args;
  // Reused scratch space, so steady-state building allocates nothing.
  std::vector<flatbuffers::Offset<flatbuffers::String>> list_scratch;
  std::vector<flatbuffers::Offset<wire::Argument>> arg_scratch;

  std::uint8_t* address(uoffset_t offset) {
    return fbb.GetCurrentBufferPointer() + fbb.GetSize() - offset;
  }
  std::string_view string_at(uoffset_t offset) {
    const auto* text = reinterpret_cast<const flatbuffers::String*>(address(offset));
    return {text->c_str(), text->size()};
  }

  void wipe_string(uoffset_t offset) {
    auto* start = address(offset);
    const auto length = flatbuffers::ReadScalar<uoffset_t>(start);
    std::memset(start, 0, sizeof(uoffset_t) + length + 1);  // Length, bytes, terminator.
  }
  void wipe_byte_vector(uoffset_t offset) {
    auto* start = address(offset);
    const auto length = flatbuffers::ReadScalar<uoffset_t>(start);
    std::memset(start, 0, sizeof(uoffset_t) + length);
  }
  void wipe_string_vector(uoffset_t offset) {
    auto* start = address(offset);
    const auto count = flatbuffers::ReadScalar<uoffset_t>(start);
    for (uoffset_t i = 0; i < count; ++i) {
      auto* slot = start + sizeof(uoffset_t) * (1 + i);
      auto* text = slot + flatbuffers::ReadScalar<uoffset_t>(slot);
      const auto length = flatbuffers::ReadScalar<uoffset_t>(text);
      std::memset(text, 0, sizeof(uoffset_t) + length + 1);
    }
    std::memset(start, 0, sizeof(uoffset_t) * (1 + count));
  }

  // Back to a fresh builder's fields, keeping the memory (reset(), and a spare State).
  void clear() noexcept {
    fbb.Clear();
    finished = false;
    open_size = 0;
    compact_size = 0;
    creator = 0;
    user_message = 0;
    key = 0;
    trace_context = 0;
    lists = {};
    list_flags = 0;
    msg_type = MessageType::OTHER;
    creator_type = CreatorType::UNKNOWN;
    stage.reset();
    retries = 0;
    id.reset();
    timestamp.reset();
    args.clear();
  }

  [[nodiscard]] bool small_enough_to_keep() const noexcept {
    return fbb.capacity() <= kMaxSpareBytes && flex_peak <= kMaxSpareBytes &&
           args.capacity() * sizeof(Arg) <= kMaxSpareBytes;
  }

  static std::unique_ptr<State, StateRecycler> take(std::size_t capacity);

  // Frees the thread's spare at thread exit. A thread_local of its own, so the slot stays
  // readable after it runs (the slot's variables are trivially destructible).
  struct SpareSlotCloser {
    SpareSlotCloser() = default;
    SpareSlotCloser(const SpareSlotCloser&) = delete;
    SpareSlotCloser& operator=(const SpareSlotCloser&) = delete;
    ~SpareSlotCloser();
  };

  void check_room(std::size_t extra) const {
    if (fbb.GetSize() + extra + kTableOverhead >= kAbsoluteMaxMessageBytes) {
      throw std::length_error("mlops: message would reach 2 GiB, the FlatBuffers limit");
    }
  }
};

// --- One spare State per thread -------------------------------------------------------
// A builder made and dropped per message (the README's way) takes the State, buffers and all,
// that the last builder dropped on this thread left behind, so the message's own bytes are
// its only allocation. No lock: each thread has its own slot. A builder dropped on another
// thread than it was made on becomes that thread's spare; fork() copies the forking
// thread's slot with the rest of its memory. Once the thread's slot is gone (thread exit,
// then static destructors on the main thread), dropped States are freed.
namespace {

thread_local void* t_spare = nullptr;  // a cleared MessageBuilder::State, or nullptr
thread_local bool t_spare_closed = false;

}  // namespace

std::unique_ptr<MessageBuilder::State, MessageBuilder::StateRecycler> MessageBuilder::State::take(
    std::size_t capacity) {
  if (t_spare != nullptr) {
    auto* spare = static_cast<State*>(t_spare);
    t_spare = nullptr;
    return std::unique_ptr<State, StateRecycler>(spare);
  }
  return std::unique_ptr<State, StateRecycler>(new State(capacity));
}

void MessageBuilder::StateRecycler::operator()(State* state) const noexcept {
  if (state == nullptr) return;
  if (t_spare != nullptr || t_spare_closed || !state->small_enough_to_keep()) {
    delete state;
    return;
  }
  static thread_local State::SpareSlotCloser closer;  // registered on this thread's first spare
  state->clear();
  t_spare = state;
}

MessageBuilder::State::SpareSlotCloser::~SpareSlotCloser() {
  delete static_cast<State*>(t_spare);
  t_spare = nullptr;
  t_spare_closed = true;
}

MessageBuilder::MessageBuilder() : MessageBuilder(kDefaultCapacity) {}
MessageBuilder::MessageBuilder(std::size_t initial_capacity)
    : state_(State::take(initial_capacity)) {}
MessageBuilder::MessageBuilder(MessageBuilder&&) noexcept = default;
MessageBuilder& MessageBuilder::operator=(MessageBuilder&&) noexcept = default;
MessageBuilder::~MessageBuilder() = default;

void MessageBuilder::reset() noexcept {
  if (state_) state_->clear();  // A moved-from builder has none: it is fresh already.
}

// A builder that finished a message goes back to its fields on its next use (so a view
// from build_view() stays intact until then). The id and timestamp belong to one message.
// A moved-from builder gets a fresh State on its next use, as a new builder would.
MessageBuilder::State& MessageBuilder::writable() {
  if (!state_) state_ = State::take(kDefaultCapacity);
  if (state_->finished) reopen();
  return *state_;
}

void MessageBuilder::reopen() {
  auto& s = *state_;
  if (std::size_t{s.open_size} > 2 * std::size_t{s.compact_size} + kCompactSlack) {
    // Copy the live fields out of the finished message (still intact) into a fresh buffer.
    const auto finished = MLOpsMessage(s.fbb.GetBufferPointer(), s.fbb.GetSize(), nullptr);
    auto fresh = from_message(finished);
    state_ = std::move(fresh.state_);
  } else {
    s.fbb.reopen(s.open_size);
    s.finished = false;
  }
  state_->id.reset();
  state_->timestamp.reset();
}

MessageBuilder& MessageBuilder::with_msg_type(MessageType type) {
  auto& s = writable();
  s.msg_type = type;
  return *this;
}

MessageBuilder& MessageBuilder::with_creator(std::string_view creator) {
  auto& s = writable();
  s.check_room(creator.size());
  if (s.creator != 0) s.wipe_string(s.creator);
  s.creator = s.fbb.CreateString(creator.data(), creator.size()).o;
  return *this;
}

MessageBuilder& MessageBuilder::with_user_msg(std::string_view message) {
  auto& s = writable();
  s.check_room(message.size());
  if (s.user_message != 0) s.wipe_string(s.user_message);
  s.user_message = s.fbb.CreateString(message.data(), message.size()).o;
  return *this;
}

MessageBuilder& MessageBuilder::with_key(std::string_view key) {
  auto& s = writable();
  s.check_room(key.size());
  if (s.key != 0) s.wipe_string(s.key);
  // No key and an empty one are one thing: librdkafka's partitioner spreads both.
  s.key = key.empty() ? 0 : s.fbb.CreateString(key.data(), key.size()).o;
  return *this;
}

MessageBuilder& MessageBuilder::with_trace_context(std::string_view traceparent) {
  if (!traceparent.empty()) {
    if (auto checked = check_traceparent(traceparent); !checked) {
      throw std::invalid_argument("mlops: " + checked.error().message);
    }
  }
  auto& s = writable();
  s.check_room(traceparent.size());
  if (s.trace_context != 0) s.wipe_string(s.trace_context);
  s.trace_context =
      traceparent.empty() ? 0 : s.fbb.CreateString(traceparent.data(), traceparent.size()).o;
  return *this;
}

MessageBuilder MessageBuilder::child_of(const MLOpsMessage& parent) {
  MessageBuilder builder;
  const auto trace = parent.trace_context();
  if (trace && check_traceparent(*trace)) {
    builder.with_trace_context(child_traceparent(*trace));
  } else {
    builder.with_trace_context(new_traceparent());
  }
  return builder;
}

MessageBuilder& MessageBuilder::with_creator_type(std::string_view creator_type) {
  return with_creator_type(normalize_creator_type(creator_type));
}

MessageBuilder& MessageBuilder::with_creator_type(CreatorType creator_type) {
  auto& s = writable();
  s.creator_type = creator_type;
  return *this;
}

MessageBuilder& MessageBuilder::with_stage(Stage stage) {
  auto& s = writable();
  s.stage = stage;
  return *this;
}

MessageBuilder& MessageBuilder::with_retries(std::int32_t retries) {
  auto& s = writable();
  s.retries = retries;
  return *this;
}

MessageBuilder& MessageBuilder::with_id(MessageId id) {
  auto& s = writable();
  s.id = id;
  return *this;
}

MessageBuilder& MessageBuilder::with_timestamp(std::int64_t unix_ns) {
  auto& s = writable();
  s.timestamp = unix_ns;
  return *this;
}

// --- List fields ---------------------------------------------------------------------

void MessageBuilder::begin_list(ListField field) {
  auto& s = writable();
  auto& slot = s.lists[static_cast<std::size_t>(field)];
  if (slot != 0) s.wipe_string_vector(slot);
  slot = 0;
  s.list_scratch.clear();
}

void MessageBuilder::add_list_element(std::string_view value) {
  auto& s = *state_;
  s.check_room(value.size() + sizeof(uoffset_t) * (s.list_scratch.size() + 2));
  s.list_scratch.push_back(s.fbb.CreateString(value.data(), value.size()));
}

MessageBuilder& MessageBuilder::end_list(ListField field, bool given_as_list) {
  auto& s = *state_;
  const auto index = static_cast<std::size_t>(field);
  s.lists[index] = s.fbb.CreateVector(s.list_scratch).o;
  const auto flag = static_cast<std::uint8_t>(kListFlags[index]);
  s.list_flags = given_as_list ? (s.list_flags | flag) : (s.list_flags & ~flag);
  return *this;
}

MessageBuilder& MessageBuilder::set_one(ListField field, std::string_view value) {
  // One value: no scratch vector, one string and a one-element vector straight away.
  auto& s = writable();
  const auto index = static_cast<std::size_t>(field);
  auto& slot = s.lists[index];
  if (slot != 0) s.wipe_string_vector(slot);
  s.check_room(value.size() + 2 * sizeof(uoffset_t));
  const auto text = s.fbb.CreateString(value.data(), value.size());
  slot = s.fbb.CreateVector(&text, 1).o;
  s.list_flags &= static_cast<std::uint8_t>(~static_cast<std::uint8_t>(kListFlags[index]));
  return *this;
}

MessageBuilder& MessageBuilder::set_many(ListField field,
                                         std::initializer_list<std::string_view> values) {
  begin_list(field);
  for (const auto value : values) add_list_element(value);
  return end_list(field, true);
}

MessageBuilder& MessageBuilder::with_topic(std::string_view topic) {
  return set_one(ListField::kTopic, topic);
}
MessageBuilder& MessageBuilder::with_topic(std::initializer_list<std::string_view> topics) {
  return set_many(ListField::kTopic, topics);
}
MessageBuilder& MessageBuilder::with_next_task(std::string_view task) {
  return set_one(ListField::kNextTask, task);
}
MessageBuilder& MessageBuilder::with_next_task(std::initializer_list<std::string_view> tasks) {
  return set_many(ListField::kNextTask, tasks);
}
MessageBuilder& MessageBuilder::with_output(std::string_view output) {
  return set_one(ListField::kOutput, output);
}
MessageBuilder& MessageBuilder::with_output(std::initializer_list<std::string_view> outputs) {
  return set_many(ListField::kOutput, outputs);
}
MessageBuilder& MessageBuilder::with_recipient(std::string_view recipient) {
  return set_one(ListField::kRecipient, recipient);
}
MessageBuilder& MessageBuilder::with_recipient(std::initializer_list<std::string_view> recipients) {
  return set_many(ListField::kRecipient, recipients);
}

// --- Additional arguments ------------------------------------------------------------

MessageBuilder& MessageBuilder::with_raw_argument(std::string_view key,
                                                  std::span<const std::uint8_t> flexbuffer) {
  auto& s = writable();
  s.check_room(key.size() + flexbuffer.size() + kFlexAlignment + 32);
  s.list_flags &= static_cast<std::uint8_t>(~kEmptyMapFlag);  // no longer empty
  auto existing = std::find_if(s.args.begin(), s.args.end(),
                               [&](const State::Arg& arg) { return s.string_at(arg.key) == key; });
  if (existing != s.args.end()) {
    s.wipe_string(existing->key);
    s.wipe_byte_vector(existing->value);
  }
  const auto key_offset = s.fbb.CreateString(key.data(), key.size());
  s.fbb.ForceVectorAlignment(flexbuffer.size(), 1, kFlexAlignment);
  const auto value_offset = s.fbb.CreateVector(flexbuffer.data(), flexbuffer.size());
  const auto table = wire::CreateArgument(s.fbb, key_offset, value_offset);
  const State::Arg arg{key_offset.o, value_offset.o, table.o};
  if (existing != s.args.end()) {
    *existing = arg;
  } else {
    s.args.push_back(arg);
  }
  return *this;
}

template <typename Write>
MessageBuilder& MessageBuilder::with_encoded_argument(std::string_view key, Write&& write) {
  // writable() first: reopening may compact into a new State, which must not happen
  // between encoding the value and copying it out of `flex`.
  auto& flex = writable().flex;
  flex.Clear();
  write(flex);
  flex.Finish();
  const auto& bytes = flex.GetBuffer();
  state_->flex_peak = std::max(state_->flex_peak, bytes.size());
  return with_raw_argument(key, {bytes.data(), bytes.size()});
}

MessageBuilder& MessageBuilder::with_additional_argument(std::string_view key, std::nullptr_t) {
  return with_encoded_argument(key, [](flexbuffers::Builder& flex) { flex.Null(); });
}
MessageBuilder& MessageBuilder::with_additional_argument(std::string_view key, bool value) {
  return with_encoded_argument(key, [&](flexbuffers::Builder& flex) { flex.Bool(value); });
}
MessageBuilder& MessageBuilder::with_additional_argument(std::string_view key, std::int64_t value) {
  return with_encoded_argument(key, [&](flexbuffers::Builder& flex) { flex.Int(value); });
}
MessageBuilder& MessageBuilder::with_additional_argument(std::string_view key, double value) {
  return with_encoded_argument(key, [&](flexbuffers::Builder& flex) { flex.Double(value); });
}
MessageBuilder& MessageBuilder::with_additional_argument(std::string_view key,
                                                         std::string_view value) {
  return with_encoded_argument(
      key, [&](flexbuffers::Builder& flex) { flex.String(value.data(), value.size()); });
}
MessageBuilder& MessageBuilder::with_additional_argument(std::string_view key,
                                                         std::span<const std::byte> bytes) {
  return with_encoded_argument(
      key, [&](flexbuffers::Builder& flex) { flex.Blob(bytes.data(), bytes.size()); });
}
MessageBuilder& MessageBuilder::with_additional_argument(std::string_view key, const Value& value) {
  if (value.depth() > kMaxValueDepth) {
    throw std::invalid_argument("mlops: additional argument '" + std::string(key) +
                                "' nests deeper than " + std::to_string(kMaxValueDepth) +
                                " levels");
  }
  return with_encoded_argument(
      key, [&](flexbuffers::Builder& flex) { detail::encode_value(flex, value); });
}

MessageBuilder& MessageBuilder::without_additional_argument(std::string_view key) {
  auto& s = writable();
  const auto existing = std::find_if(s.args.begin(), s.args.end(), [&](const State::Arg& arg) {
    return s.string_at(arg.key) == key;
  });
  if (existing == s.args.end()) return *this;
  s.wipe_string(existing->key);
  s.wipe_byte_vector(existing->value);
  s.args.erase(existing);
  return *this;
}

MessageBuilder& MessageBuilder::with_additional_arguments(const Value::Map& arguments) {
  for (const auto& [key, value] : arguments) with_additional_argument(key, value);
  return *this;
}

MessageBuilder& MessageBuilder::with_additional_data(const Value& data) {
  if (const auto* map = data.if_map()) {
    if (map->empty()) {
      auto& s = writable();
      if (s.args.empty()) s.list_flags |= kEmptyMapFlag;
      return *this;
    }
    return with_additional_arguments(*map);
  }
  return with_additional_argument("additional_data", data);
}

// --- Finishing -----------------------------------------------------------------------

void MessageBuilder::finish() {
  auto& s = *state_;
  auto& fbb = s.fbb;
  s.open_size = fbb.GetSize();
  if (s.compact_size == 0) s.compact_size = s.open_size;

  std::int64_t now = 0;
  if (!s.id || !s.timestamp) now = unix_now_ns();
  const std::int64_t timestamp = s.timestamp.value_or(now);
  const MessageId id = s.id ? *s.id : MessageId::generate(now);

  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::Argument>>> args;
  if (!s.args.empty()) {
    // Sorted by key so readers find a key by binary search.
    std::sort(s.args.begin(), s.args.end(), [&](const State::Arg& a, const State::Arg& b) {
      return s.string_at(a.key) < s.string_at(b.key);
    });
    s.arg_scratch.clear();
    for (const auto& arg : s.args) s.arg_scratch.emplace_back(arg.table);
    args = fbb.CreateVector(s.arg_scratch);
  }

  const wire::MessageId wire_id(id.hi, id.lo);
  wire::MessageBuilder table(fbb);
  // Widest first, as flatc's own Create functions do, to keep padding down.
  table.add_timestamp_ns(timestamp);
  table.add_id(&wire_id);
  if (!args.IsNull()) table.add_additional_arguments(args);
  using StringVector =
      flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>>;
  const auto& lists = s.lists;
  if (lists[0] != 0) table.add_topic(StringVector(lists[0]));
  if (lists[1] != 0) table.add_next_task(StringVector(lists[1]));
  if (lists[2] != 0) table.add_output(StringVector(lists[2]));
  if (lists[3] != 0) table.add_recipient(StringVector(lists[3]));
  if (s.creator != 0) table.add_creator(flatbuffers::Offset<flatbuffers::String>(s.creator));
  if (s.user_message != 0) {
    table.add_user_message(flatbuffers::Offset<flatbuffers::String>(s.user_message));
  }
  if (s.key != 0) table.add_key(flatbuffers::Offset<flatbuffers::String>(s.key));
  if (s.trace_context != 0) {
    table.add_trace_context(flatbuffers::Offset<flatbuffers::String>(s.trace_context));
  }
  table.add_retries(s.retries);
  table.add_msg_type(static_cast<wire::MessageType>(s.msg_type));
  table.add_creator_type(static_cast<wire::CreatorType>(s.creator_type));
  if (s.stage) table.add_stage(static_cast<wire::Stage>(*s.stage));
  table.add_list_fields(static_cast<wire::ListFields>(s.list_flags));
  wire::FinishMessageBuffer(fbb, table.Finish());
}

MLOpsMessage MessageBuilder::build() {
  auto& s = writable();
  finish();
  s.finished = true;
  auto owned = detail::copy_to_owned_buffer({s.fbb.GetBufferPointer(), s.fbb.GetSize()});
  return MLOpsMessage(owned.data, owned.size, std::move(owned.owner));
}

MLOpsMessage MessageBuilder::build_view() {
  auto& s = writable();
  finish();
  s.finished = true;
  return MLOpsMessage(s.fbb.GetBufferPointer(), s.fbb.GetSize(), nullptr);
}

// --- Copying a message ---------------------------------------------------------------

MessageBuilder MessageBuilder::from_message(const MLOpsMessage& message) {
  MessageBuilder builder;
  builder.with_msg_type(message.message_type()).with_creator_type(message.creator_type());
  builder.with_retries(message.retries());
  if (const auto creator = message.creator()) builder.with_creator(*creator);
  if (const auto text = message.user_message()) builder.with_user_msg(*text);
  if (const auto key = message.key()) builder.with_key(*key);
  if (const auto trace = message.trace_context(); trace && check_traceparent(*trace)) {
    builder.with_trace_context(*trace);  // A foreign writer's invalid text is not copied.
  }
  if (const auto stage = message.stage()) builder.with_stage(*stage);
  const auto copy_list = [&](ListField field, const StringList& values) {
    if (values.empty() && !values.is_list()) return;
    builder.begin_list(field);
    for (const auto value : values) builder.add_list_element(value);
    builder.end_list(field, values.is_list());
  };
  copy_list(ListField::kTopic, message.topic());
  copy_list(ListField::kNextTask, message.next_task());
  copy_list(ListField::kOutput, message.output());
  copy_list(ListField::kRecipient, message.recipient());
  if (message.additional_data_is_empty_map()) builder.with_additional_data(Value::Map{});
  for (std::size_t i = 0; i < message.additional_argument_count(); ++i) {
    const auto raw = message.raw_argument_at(i);
    if (raw.flexbuffer.empty()) {
      builder.with_additional_argument(raw.key, nullptr);  // A foreign writer left it out.
    } else {
      builder.with_raw_argument(raw.key, raw.flexbuffer);
    }
  }
  return builder;
}

}  // namespace mlops::messaging
