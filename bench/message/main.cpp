// Message-layer benchmarks (issue 3): our MessageBuilder / MLOpsMessage beside every baseline,
// in one binary and one run, on two messages (seed and full). Benchmarks are named
// <message>/<operation>/<implementation>; bench/run turns their medians into ratios.
//
// Baselines: hand-written flatc code for our schema (reused FlatBufferBuilder), protobuf
// (message_bench.proto), nlohmann::json (the original system's format) and memcpy.
// Every implementation starts from the same Source (the producer's data) and writes the
// same fields, id and timestamp included; main() checks that mlops and flatc build the
// same message before anything runs. Counters: bytes (on the wire), allocs (per iteration,
// from the counting operator new in alloc_counter.cpp) and checksum (of what was built or
// read, so nothing is optimised away; mlops and flatc agree on it where they read the same
// bytes). --mlops_iterations=N fixes every benchmark's iteration count, for callgrind.

#include <benchmark/benchmark.h>
#include <flatbuffers/flatbuffers.h>
#include <google/protobuf/arena.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "message/codecs.h"
#include "message/typed/typed.h"

namespace mlops::bench::message {
namespace {

using nlohmann::json;

// --- The producer's data ---------------------------------------------------------------

Source seed_message() {
  Source m;
  m.name = "seed";
  m.msg_type = mes::MessageType::START;
  m.topic = {"mlops.etl"};
  m.creator = "ETL";
  m.creator_type = mes::CreatorType::MLOPS;
  m.creator_type_text = "ETL";
  m.next_task = {"Train"};
  m.user_message = "Hello World";
  m.output = {"s3://datasets/etl/2024-06-01/part-0000.parquet"};
  return m;
}

Source full_message() {
  Source m;
  m.name = "full";
  m.msg_type = mes::MessageType::COMPLETE;
  m.topic = {"mlops.train", "mlops.audit"};
  m.topic_is_list = true;
  m.creator = "trainer-7";
  m.creator_type = mes::CreatorType::MLOPS;
  m.creator_type_text = "Training";
  m.stage = mes::Stage::TRAIN;
  m.next_task = {"Evaluate", "Register"};
  m.next_task_is_list = true;
  m.user_message = "Training finished: 30 epochs, best validation loss 0.231";
  m.retries = 2;
  m.output = {"s3://models/resnet50/run-42/model.pt", "s3://models/resnet50/run-42/metrics.json"};
  m.output_is_list = true;
  m.recipient = {"evaluator", "model-registry"};
  m.recipient_is_list = true;
  mes::Value::Bytes digest(16);
  for (std::size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<std::byte>(i * 37 + 11);
  m.args = {
      {"epochs", mes::Value(30)},
      {"learning_rate", mes::Value(0.001)},
      {"early_stopped", mes::Value(true)},
      {"model", mes::Value("resnet50")},
      {"weights_sha", mes::Value(std::move(digest))},
      {"layers", mes::Value(mes::Value::List{64, 128, 256, 512})},
      {"optimizer",
       mes::Value(mes::Value::Map{{"name", "adam"}, {"beta1", 0.9}, {"beta2", 0.999}})},
      {"parent_run", mes::Value(nullptr)},
  };
  return m;
}

// --- Set-up and the fairness check -------------------------------------------------------

/// The same fields must come out of our builder and the hand-written code: given the same
/// id and timestamp, reading either message with either reader gives one checksum.
bool check_equivalence(const Fixture& f) {
  const FixedStamp fixed{wire::MessageId(0x0190B1C2D3E47F00ULL, 0x8A1B2C3D4E5F6A7BULL),
                         1'718'000'000'123'456'789};
  mes::MessageBuilder builder;
  fill(builder, f.source);
  builder.with_id({fixed.id.hi(), fixed.id.lo()}).with_timestamp(fixed.timestamp_ns);
  const AlignedBytes ours(builder.build().bytes());
  FlatcWriter writer;
  const AlignedBytes theirs(build_flatc(writer, f.source, &fixed));
  const auto ours_msg = mes::MLOpsMessage::borrow(ours.span());
  const auto theirs_msg = mes::MLOpsMessage::borrow(theirs.span());
  if (!ours_msg || !theirs_msg) {
    std::fprintf(stderr, "%s: a message failed verification (%s)\n", f.source.name.c_str(),
                 (!ours_msg ? ours_msg.error() : theirs_msg.error()).message.c_str());
    return false;
  }
  const auto a = read_mlops(*ours_msg);
  const auto b = read_flatc(ours.data());
  const auto c = read_mlops(*theirs_msg);
  const auto d = read_flatc(theirs.data());
  pb::Message proto;
  const bool proto_ok = proto.ParseFromString(f.proto_bytes);
  const bool json_ok = json::accept(f.json_text);
  const bool agree = a == b && b == c && c == d;
  std::fprintf(stderr,
               "%-4s: %zu bytes mlops, %zu bytes flatc, %zu bytes protobuf, %zu bytes JSON; "
               "mlops and flatc checksums %s\n",
               f.source.name.c_str(), ours.size, theirs.size, f.proto_bytes.size(),
               f.json_text.size(), agree ? "agree" : "DIFFER");
  return agree && proto_ok && json_ok;
}

Fixture make_fixture(Source source) {
  Fixture f;
  f.source = std::move(source);
  mes::MessageBuilder builder;
  fill(builder, f.source);
  const auto message = builder.build();
  f.bytes = AlignedBytes(message.bytes());
  f.mlops_json = message.to_json().value();
  pb::Message proto;
  IdGenerator ids;
  fill_proto(proto, f.source, ids);
  f.proto_bytes = proto.SerializeAsString();
  f.json_text = dump_json(f.source, ids);
  return f;
}

// A fixed iteration count for every benchmark (0: Google Benchmark decides), for profiling:
// under callgrind, instructions per iteration = the benchmark function's cost / this count.
std::int64_t g_fixed_iterations = 0;

template <typename Fn>
void add(const Fixture& f, const std::string& name, Fn fn) {
  const auto full_name = f.source.name + "/" + name;
  auto* bench = benchmark::RegisterBenchmark(full_name.c_str(),
                                             [&f, fn](benchmark::State& state) { fn(state, f); });
  if (g_fixed_iterations > 0) bench->Iterations(g_fixed_iterations);
}

void register_all(const Fixture& f) {
  add(f, "build/mlops_reused_view", [](auto& s, const auto& x) { mlops_build_view(s, x, false); });
  add(f, "build/mlops_reused_view_text_creator_type",
      [](auto& s, const auto& x) { mlops_build_view(s, x, true); });
  add(f, "build/mlops_reused_owned", mlops_build_owned);
  add(f, "build/mlops_fresh", mlops_build_fresh);
  add(f, "build/flatc_reused", flatc_build);
  add(f, "build/flatc_reused_owned", flatc_build_owned);
  add(f, "build/flatc_fresh", flatc_build_fresh);
  add(f, "build/protobuf_reused", protobuf_build);
  add(f, "build/protobuf_arena", protobuf_build_arena);
  add(f, "build/json", json_build);
  add(f, "verify/mlops_borrow", mlops_verify_borrow);
  add(f, "verify/flatc_verifier", flatc_verify);
  add(f, "verify/mlops_from_bytes", mlops_verify_from_bytes);
  add(f, "verify/flatc_copy_verifier", flatc_copy_verify);
  add(f, "read/mlops", mlops_read);
  add(f, "read/flatc", flatc_read);
  add(f, "verify_read/mlops", mlops_verify_read);
  add(f, "verify_read/flatc", flatc_verify_read);
  add(f, "verify_read/protobuf", protobuf_parse_read);
  add(f, "verify_read/json", json_parse_read);
  add(f, "round_trip/mlops", mlops_round_trip);
  add(f, "round_trip/flatc", flatc_round_trip);
  add(f, "round_trip/protobuf", protobuf_round_trip);
  add(f, "round_trip/json", json_round_trip);
  add(f, "to_json/mlops", mlops_to_json);
  add(f, "from_json/mlops", mlops_from_json);
  add(f, "from_json/flatc_parser", flatc_from_json);
  add(f, "copy/memcpy", memcpy_copy);
}

}  // namespace
}  // namespace mlops::bench::message

using mlops::bench::message::check_equivalence;
using mlops::bench::message::check_typed;
using mlops::bench::message::Fixture;
using mlops::bench::message::full_message;
using mlops::bench::message::g_fixed_iterations;
using mlops::bench::message::make_fixture;
using mlops::bench::message::register_all;
using mlops::bench::message::register_typed;
using mlops::bench::message::seed_message;

int main(int argc, char** argv) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  // --mlops_iterations=N (ours, taken out before Google Benchmark sees the arguments).
  constexpr std::string_view kIterationsFlag = "--mlops_iterations=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with(kIterationsFlag)) {
      g_fixed_iterations = std::stoll(std::string(arg.substr(kIterationsFlag.size())));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  // Fixtures live until exit: the registered benchmarks refer to them.
  static const Fixture seed = make_fixture(seed_message());
  static const Fixture full = make_fixture(full_message());
  if (!check_equivalence(seed) || !check_equivalence(full)) {
    std::fprintf(stderr, "mlops and the hand-written flatc code do not build the same message\n");
    return 1;
  }
  // Issue 19: the arguments in a typed form, beside the FlexBuffers one (message/typed/).
  if (!check_typed(seed) || !check_typed(full)) {
    std::fprintf(stderr, "a typed form of the arguments does not read back what flatc wrote\n");
    return 1;
  }
  register_all(seed);
  register_all(full);
  register_typed(seed, g_fixed_iterations);
  register_typed(full, g_fixed_iterations);
  benchmark::AddCustomContext("flatbuffers", std::to_string(FLATBUFFERS_VERSION_MAJOR) + "." +
                                                 std::to_string(FLATBUFFERS_VERSION_MINOR) + "." +
                                                 std::to_string(FLATBUFFERS_VERSION_REVISION));
  benchmark::AddCustomContext("protobuf",
                              google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
  benchmark::AddCustomContext("nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                                   std::to_string(NLOHMANN_JSON_VERSION_MINOR) +
                                                   "." +
                                                   std::to_string(NLOHMANN_JSON_VERSION_PATCH));
  benchmark::AddCustomContext("seed_bytes", std::to_string(seed.bytes.size));
  benchmark::AddCustomContext("full_bytes", std::to_string(full.bytes.size));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  google::protobuf::ShutdownProtobufLibrary();
  return 0;
}
