#pragma once
/// \file MLOpsMessage: an immutable, verified message read in place from its bytes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mlops/export.h"
#include "mlops/messaging/detail/mlops_message_generated.h"
#include "mlops/messaging/enums.h"
#include "mlops/messaging/message_id.h"
#include "mlops/messaging/string_list.h"
#include "mlops/messaging/value_view.h"
#include "mlops/result.h"

namespace mlops::messaging {

namespace detail {
struct MessageAccess;  // the library's own, not part of the API
}  // namespace detail

/// The largest message from_bytes() accepts unless told otherwise: 64 MiB.
inline constexpr std::size_t kDefaultMaxMessageBytes = std::size_t{64} << 20;
/// FlatBuffers cannot address 2 GiB or more; such input is refused before verifying.
inline constexpr std::size_t kAbsoluteMaxMessageBytes = (std::size_t{1} << 31) - 1;

/// The limits from_bytes() verifies untrusted bytes against.
/// Nested FlexBuffers (additional arguments) are held to FlexBuffers' own limits:
/// nesting depth 64 and no more vectors than bytes; and shared references may reach at
/// most 2 values per byte (so reading one stays linear in its size).
struct MLOPS_EXPORT VerifyLimits {
  /// Larger input is refused with kTooLarge (capped at kAbsoluteMaxMessageBytes).
  std::size_t max_bytes = kDefaultMaxMessageBytes;
  /// Deepest nesting of tables and vectors accepted.
  std::uint32_t max_depth = 64;
  /// Most tables accepted (one per message plus one per additional argument).
  std::uint32_t max_tables = 100'000;
};

/// One additional argument: its key and a view of its value.
struct MLOPS_EXPORT Argument {
  std::string_view key;
  ValueView value;
};

/// An immutable MLOps pipeline message: verified FlatBuffers bytes plus whatever
/// keeps them alive (a heap buffer, a mapped queue segment, a broker's message).
/// Getters read the bytes in place: no copies, no allocation. Copying a message
/// shares its bytes (a reference-count bump). There are no setters; to change a
/// message build a new one (MessageBuilder::from_message).
///
///   auto msg = MessageBuilder().with_user_msg("Hello World").build();
///   msg.user_message();   // "Hello World"
///   msg.stage();          // std::nullopt: never set
///
/// Thread-safety: const; any number of threads may read one message and its copies.
class MLOPS_EXPORT MLOpsMessage {
 public:
  /// Verifies `bytes` and copies them into a buffer the message owns.
  /// @return the message, or an Error: kEmpty, kTooLarge, kTruncated, kWrongIdentifier, kCorrupt.
  static Result<MLOpsMessage> from_bytes(std::span<const std::uint8_t> bytes,
                                         const VerifyLimits& limits = {});
  /// As above, for bytes held as characters (a socket buffer, a broker payload).
  static Result<MLOpsMessage> from_bytes(std::string_view bytes, const VerifyLimits& limits = {});

  /// Verifies `bytes` in place and keeps `owner` alive as long as the message or a copy
  /// lives: the zero-copy form transports use. `bytes` must be 8-byte aligned.
  /// @return the message, or an Error as from_bytes(), or kMisaligned.
  static Result<MLOpsMessage> from_shared(std::span<const std::uint8_t> bytes,
                                          std::shared_ptr<const void> owner,
                                          const VerifyLimits& limits = {});

  /// Verifies `bytes` in place without owning them: the caller keeps them alive and
  /// unchanged while the message (or a copy) is used. `bytes` must be 8-byte aligned.
  /// @return the message, or an Error as from_shared().
  static Result<MLOpsMessage> borrow(std::span<const std::uint8_t> bytes,
                                     const VerifyLimits& limits = {});

  /// The exact wire bytes, ready to send as they are.
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  /// True when the message keeps its bytes alive itself (false for borrow() and build_view()).
  [[nodiscard]] bool is_owning() const noexcept { return owner_ != nullptr; }
  /// A message that keeps its bytes alive: a copy of this one if it is owning (a
  /// reference-count bump), else one over an aligned copy of its bytes, which are not
  /// verified again (they were when this message was made). Throws std::bad_alloc.
  [[nodiscard]] MLOpsMessage owned() const;

  /// What the message reports; OTHER unless set.
  [[nodiscard]] MessageType message_type() const noexcept {
    return static_cast<MessageType>(root()->msg_type());
  }
  /// The topics it goes to; empty if unset.
  [[nodiscard]] StringList topic() const noexcept {
    return {root()->topic(), has_list_flag(wire::ListFields::topic)};
  }
  /// Who created it; nullopt if unset.
  [[nodiscard]] std::optional<std::string_view> creator() const noexcept {
    return text(root()->creator());
  }
  /// The canonical creator type; UNKNOWN unless set.
  [[nodiscard]] CreatorType creator_type() const noexcept {
    return static_cast<CreatorType>(root()->creator_type());
  }
  /// The pipeline stage; nullopt if unset.
  [[nodiscard]] std::optional<Stage> stage() const noexcept {
    const auto stage = root()->stage();
    if (!stage.has_value()) return std::nullopt;
    return static_cast<Stage>(*stage);
  }
  /// The tasks that should run next; empty if unset.
  [[nodiscard]] StringList next_task() const noexcept {
    return {root()->next_task(), has_list_flag(wire::ListFields::next_task)};
  }
  /// The free-text message; nullopt if unset.
  [[nodiscard]] std::optional<std::string_view> user_message() const noexcept {
    return text(root()->user_message());
  }
  /// How often this work was retried; 0 unless set.
  [[nodiscard]] std::int32_t retries() const noexcept { return root()->retries(); }
  /// Outputs (paths, URIs) produced; empty if unset.
  [[nodiscard]] StringList output() const noexcept {
    return {root()->output(), has_list_flag(wire::ListFields::output)};
  }
  /// Who should receive it; empty if unset.
  [[nodiscard]] StringList recipient() const noexcept {
    return {root()->recipient(), has_list_flag(wire::ListFields::recipient)};
  }

  /// Number of additional arguments.
  [[nodiscard]] std::size_t additional_argument_count() const noexcept {
    const auto* args = arguments();
    return args ? args->size() : 0;
  }
  /// True when the producer gave the additional data as an empty map (the original's
  /// `add_data: {}`); with no arguments and this false, it was never set.
  [[nodiscard]] bool additional_data_is_empty_map() const noexcept {
    return additional_argument_count() == 0 &&
           has_list_flag(wire::ListFields::additional_arguments);
  }
  /// Additional argument `index` in key order; index must be below the count.
  [[nodiscard]] Argument additional_argument_at(std::size_t index) const noexcept {
    const auto* arg = arguments()->Get(static_cast<flatbuffers::uoffset_t>(index));
    const std::string_view key(arg->key()->c_str(), arg->key()->size());
    const auto* value = arg->value();
    if (value == nullptr) return {key, ValueView()};
    return {key, ValueView(flexbuffers::GetRoot(value->Data(), value->size()))};
  }
  /// The value of the additional argument `key` (binary search, no allocation); nullopt if absent.
  [[nodiscard]] std::optional<ValueView> additional_argument(std::string_view key) const noexcept;
  /// All additional arguments as an owned map (allocates; for convenience, not hot paths).
  [[nodiscard]] Value::Map additional_arguments() const;

  /// The key that orders it among messages of the same key (MessageBuilder::with_key);
  /// nullopt if unset.
  [[nodiscard]] std::optional<std::string_view> key() const noexcept { return text(root()->key()); }

  /// The W3C `traceparent` of the pipeline run it belongs to
  /// (MessageBuilder::with_trace_context, child_of); nullopt if unset. Foreign writers'
  /// text is not checked: check_traceparent() before trusting it.
  [[nodiscard]] std::optional<std::string_view> trace_context() const noexcept {
    return text(root()->trace_context());
  }
  /// The message's unique, time-ordered id; nullopt only for messages from foreign writers.
  [[nodiscard]] std::optional<MessageId> id() const noexcept {
    const auto* id = root()->id();
    if (id == nullptr) return std::nullopt;
    return MessageId{id->hi(), id->lo()};
  }
  /// Creation time in nanoseconds since the Unix epoch; nullopt only from foreign writers.
  [[nodiscard]] std::optional<std::int64_t> timestamp() const noexcept {
    const auto stamp = root()->timestamp_ns();
    if (!stamp.has_value()) return std::nullopt;
    return *stamp;
  }

  /// The message as one line of JSON, through FlatBuffers' own text generator and the
  /// schema. Bytes and non-UTF-8 text appear as "\xNN" escapes (which from_json reads back).
  /// @return the text, or kInternal if the generator fails (a bug).
  [[nodiscard]] Result<std::string> to_json() const;

 private:
  friend class MessageBuilder;
  // The library's own transports adopt bytes they verified (src/messaging/message_access.h).
  friend struct detail::MessageAccess;
  struct RawArgument {
    std::string_view key;
    std::span<const std::uint8_t> flexbuffer;
  };
  /// The key and the undecoded FlexBuffer bytes of argument `index` (for copying).
  [[nodiscard]] RawArgument raw_argument_at(std::size_t index) const noexcept;

  using WireArguments = flatbuffers::Vector<flatbuffers::Offset<wire::Argument>>;

  // The arguments vector is looked up once here, not by every getter (a reader calls
  // additional_argument_at once per argument); kept as an offset so that a message stays
  // 32 bytes (an inproc slot holds one in its 64).
  MLOpsMessage(const std::uint8_t* data, std::size_t size,
               std::shared_ptr<const void> owner) noexcept
      : data_(data),
        size_(static_cast<std::uint32_t>(size)),
        args_at_(arguments_offset(data)),
        owner_(std::move(owner)) {}
  static std::uint32_t arguments_offset(const std::uint8_t* data) noexcept {
    const auto* args = wire::GetMessage(data)->additional_arguments();
    if (args == nullptr) return 0;
    return static_cast<std::uint32_t>(reinterpret_cast<const std::uint8_t*>(args) - data);
  }

  [[nodiscard]] const wire::Message* root() const noexcept { return wire::GetMessage(data_); }
  [[nodiscard]] const WireArguments* arguments() const noexcept {
    return args_at_ == 0 ? nullptr : reinterpret_cast<const WireArguments*>(data_ + args_at_);
  }
  [[nodiscard]] bool has_list_flag(wire::ListFields flag) const noexcept {
    return (static_cast<std::uint8_t>(root()->list_fields()) & static_cast<std::uint8_t>(flag)) !=
           0;
  }
  static std::optional<std::string_view> text(const flatbuffers::String* value) noexcept {
    if (value == nullptr) return std::nullopt;
    return std::string_view(value->c_str(), value->size());
  }

  const std::uint8_t* data_;
  std::uint32_t size_;     // below kAbsoluteMaxMessageBytes, as FlatBuffers requires
  std::uint32_t args_at_;  // the arguments vector's offset from data_; 0: none
  std::shared_ptr<const void> owner_;
};

}  // namespace mlops::messaging
