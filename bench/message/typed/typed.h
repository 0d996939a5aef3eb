#pragma once
// Issue 19's measurement: the full message with its additional arguments in a typed
// FlatBuffers form (union_args.fbs, tagged_args.fbs) beside the FlexBuffers form of the
// hand-written flatc baseline, in message_bench's run. Hand-written code over the
// generated headers, as flatc.cpp is for the real schema.

#include <flatbuffers/flatbuffers.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "columnar_args_generated.h"
#include "message/codecs.h"
#include "message/typed/fields.h"
#include "tagged_args_generated.h"
#include "union_args_generated.h"

namespace mlops::bench::message {

namespace tu = mlops::bench::typed_union;
namespace tg = mlops::bench::tagged;
namespace cl = mlops::bench::columnar;

// --- union form: an argument's value is a union of one table per kind ---------------------

/// What a writer keeps between messages; the scratch stacks hold nested lists' and maps'
/// children until their vector is written (reserved, so no allocation per message).
struct UnionWriter {
  flatbuffers::FlatBufferBuilder fbb{1024};
  FieldScratch fields;
  std::array<flatbuffers::Offset<tu::Argument>, 16> args{};
  std::vector<flatbuffers::Offset<void>> items;
  std::vector<tu::Value> item_types;
  std::vector<flatbuffers::Offset<tu::Argument>> entries;
  IdGenerator ids;
  UnionWriter();
};

std::span<const std::uint8_t> build_union(UnionWriter& w, const Source& m,
                                          const FixedStamp* fixed = nullptr);
bool verify_union(const std::uint8_t* data, std::size_t size);
std::uint64_t read_union(const std::uint8_t* data);

// --- tagged form: an argument is one table, a kind and one field per kind ----------------

struct TaggedWriter {
  flatbuffers::FlatBufferBuilder fbb{1024};
  FieldScratch fields;
  std::array<flatbuffers::Offset<tg::Argument>, 16> args{};
  std::vector<flatbuffers::Offset<tg::Item>> items;
  std::vector<flatbuffers::Offset<tg::Argument>> entries;
  IdGenerator ids;
  TaggedWriter();
};

std::span<const std::uint8_t> build_tagged(TaggedWriter& w, const Source& m,
                                           const FixedStamp* fixed = nullptr);
bool verify_tagged(const std::uint8_t* data, std::size_t size);
std::uint64_t read_tagged(const std::uint8_t* data);

// --- columnar form: a map or list is one table of parallel vectors -----------------------

struct ColumnarWriter {
  flatbuffers::FlatBufferBuilder fbb{1024};
  FieldScratch fields;
  std::array<std::uint8_t, 16> order{};  // The arguments' indices, sorted by key.
  std::vector<flatbuffers::Offset<flatbuffers::String>> keys;
  std::vector<cl::Kind> kinds;
  std::vector<cl::Scalar> scalars;
  std::vector<flatbuffers::Offset<flatbuffers::String>> texts;
  std::vector<flatbuffers::Offset<cl::Blob>> blobs;
  std::vector<flatbuffers::Offset<cl::Values>> lists;
  std::vector<flatbuffers::Offset<cl::Values>> maps;
  IdGenerator ids;
  ColumnarWriter();
};

std::span<const std::uint8_t> build_columnar(ColumnarWriter& w, const Source& m,
                                             const FixedStamp* fixed = nullptr);
/// The generated Verifier, then what it cannot see: the columns' lengths agree and every
/// index is in range.
bool verify_columnar(const std::uint8_t* data, std::size_t size);
std::uint64_t read_columnar(const std::uint8_t* data);
/// The position of argument `key` (binary search over the sorted keys), if there is one.
std::optional<std::size_t> find_columnar(const std::uint8_t* data, std::string_view key);

/// The typed forms read back what the flatc baseline wrote (one checksum for the same id
/// and timestamp), and a keyed lookup finds an argument; false, with a line on stderr, if not.
bool check_typed(const Fixture& f);

/// Registers the typed forms' benchmarks and the flatc baseline without its arguments
/// (what the rest of the message costs) under `<message>/<operation>/...`, for a message
/// with arguments.
void register_typed(const Fixture& f, std::int64_t fixed_iterations);

}  // namespace mlops::bench::message
