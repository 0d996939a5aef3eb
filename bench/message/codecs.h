#pragma once
// What each codec file of message_bench offers main.cpp: the builders and readers the
// fixtures and the fairness check use, and the benchmark functions it registers.

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/flexbuffers.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "message/common.h"
#include "message_bench.pb.h"

namespace mlops::bench::message {

namespace pb = mlops::bench::pb;

// --- mlops ---------------------------------------------------------------------------------

/// Sets every field of `m`; `text_creator_type` uses the free-form overload ("ETL").
void fill(mes::MessageBuilder& b, const Source& m, bool text_creator_type = false);

/// Reads every field of `m` through our getters.
std::uint64_t read_mlops(const mes::MLOpsMessage& m);

void mlops_build_view(benchmark::State& state, const Fixture& f, bool text_creator_type);
void mlops_build_owned(benchmark::State& state, const Fixture& f);
void mlops_build_fresh(benchmark::State& state, const Fixture& f);
void mlops_verify_borrow(benchmark::State& state, const Fixture& f);
void mlops_verify_from_bytes(benchmark::State& state, const Fixture& f);
void mlops_read(benchmark::State& state, const Fixture& f);
void mlops_verify_read(benchmark::State& state, const Fixture& f);
void mlops_round_trip(benchmark::State& state, const Fixture& f);
void mlops_to_json(benchmark::State& state, const Fixture& f);
// from_json: to_json()'s text back into an owned, verified message.
void mlops_from_json(benchmark::State& state, const Fixture& f);

// --- flatc ---------------------------------------------------------------------------------

/// What a skilled user keeps between messages: the builders, scratch arrays, the id state.
struct FlatcWriter {
  flatbuffers::FlatBufferBuilder fbb{1024};
  // No key or string pooling, as in our builder: pooling keeps a std::set, which allocates.
  flexbuffers::Builder flex{256, flexbuffers::BUILDER_FLAG_NONE};
  std::array<flatbuffers::Offset<flatbuffers::String>, 16> strings{};
  std::array<flatbuffers::Offset<wire::Argument>, 16> args{};
  IdGenerator ids;
};

/// An id and a timestamp given instead of fresh ones (only for the equivalence check).
struct FixedStamp {
  wire::MessageId id;
  std::int64_t timestamp_ns;
};

/// Builds `m` into w.fbb (cleared first) and returns the finished bytes.
std::span<const std::uint8_t> build_flatc(FlatcWriter& w, const Source& m,
                                          const FixedStamp* fixed = nullptr);

/// Reads every field through the generated accessors.
std::uint64_t read_flatc(const std::uint8_t* data);

void flatc_build(benchmark::State& state, const Fixture& f);
// The baseline for build(): hand-written code, then the same one-allocation owned copy.
void flatc_build_owned(benchmark::State& state, const Fixture& f);
void flatc_build_fresh(benchmark::State& state, const Fixture& f);
void flatc_verify(benchmark::State& state, const Fixture& f);
// The baseline for from_bytes(): the same owned, aligned copy, then the raw Verifier.
void flatc_copy_verify(benchmark::State& state, const Fixture& f);
// The baseline for from_json(): one flatbuffers::Parser kept across messages (the schema
// parsed once), ParseJson, the raw Verifier and the same owned copy.
void flatc_from_json(benchmark::State& state, const Fixture& f);
void flatc_read(benchmark::State& state, const Fixture& f);
void flatc_verify_read(benchmark::State& state, const Fixture& f);
void flatc_round_trip(benchmark::State& state, const Fixture& f);

// --- protobuf ------------------------------------------------------------------------------

/// Sets every field of `p` (which must be clear) from `m`.
void fill_proto(pb::Message& p, const Source& m, IdGenerator& ids);

void protobuf_build(benchmark::State& state, const Fixture& f);
// Protobuf at its best: the message on an arena whose first block is reused memory.
void protobuf_build_arena(benchmark::State& state, const Fixture& f);
void protobuf_parse_read(benchmark::State& state, const Fixture& f);
void protobuf_round_trip(benchmark::State& state, const Fixture& f);

// --- json ----------------------------------------------------------------------------------

/// The original system: a dict of every attribute (None where unset), then json.dumps.
std::string dump_json(const Source& m, IdGenerator& ids);

void json_build(benchmark::State& state, const Fixture& f);
void json_parse_read(benchmark::State& state, const Fixture& f);
void json_round_trip(benchmark::State& state, const Fixture& f);

// --- memcpy --------------------------------------------------------------------------------

void memcpy_copy(benchmark::State& state, const Fixture& f);

}  // namespace mlops::bench::message
