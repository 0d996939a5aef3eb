// The typed forms' benchmarks, named as message_bench's others so bench/run lists them and
// counts their instructions: <message>/<operation>/typed_union|typed_tagged, beside the
// FlexBuffers baseline (flatc_*) and JSON of the same run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "message/typed/typed.h"

namespace mlops::bench::message {

namespace {

/// One form's writer, verifier and reader, with its message built once for verify and read.
template <typename Writer>
struct Form {
  std::span<const std::uint8_t> (*build)(Writer&, const Source&, const FixedStamp*);
  bool (*verify)(const std::uint8_t*, std::size_t);
  std::uint64_t (*read)(const std::uint8_t*);
};

const Form<UnionWriter> kUnion{build_union, verify_union, read_union};
const Form<TaggedWriter> kTagged{build_tagged, verify_tagged, read_tagged};
const Form<ColumnarWriter> kColumnar{build_columnar, verify_columnar, read_columnar};

template <typename Writer>
AlignedBytes built(const Form<Writer>& form, const Source& m) {
  Writer writer;
  return AlignedBytes(form.build(writer, m, nullptr));
}

template <typename Writer>
void typed_build(benchmark::State& state, const Form<Writer>& form, const Source& m) {
  Writer writer;
  (void)form.build(writer, m, nullptr);
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto bytes = form.build(writer, m, nullptr);
    keep(bytes);
    size = bytes.size();
  }
  counters.finish(size, size);
}

template <typename Writer>
void typed_verify(benchmark::State& state, const Form<Writer>& form, const AlignedBytes& b) {
  const auto* data = b.data();
  bool ok = true;
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    bool verified = form.verify(data, b.size);
    keep(verified);
    ok = ok && verified;
  }
  counters.finish(b.size, ok);
  if (!ok) state.SkipWithError("Verifier rejected the message");
}

template <typename Writer>
void typed_read(benchmark::State& state, const Form<Writer>& form, const AlignedBytes& b) {
  const auto* data = b.data();
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    checksum = form.read(data);
    keep(checksum);
  }
  counters.finish(b.size, checksum);
}

template <typename Writer>
void typed_verify_read(benchmark::State& state, const Form<Writer>& form, const AlignedBytes& b) {
  const auto* data = b.data();
  std::uint64_t checksum = 0;
  Counters counters(state);
  for (auto _ : state) {
    keep(data);
    checksum = form.verify(data, b.size) ? form.read(data) : 0;
    keep(checksum);
  }
  counters.finish(b.size, checksum);
}

template <typename Writer>
void typed_round_trip(benchmark::State& state, const Form<Writer>& form, const Source& m) {
  Writer writer;
  (void)form.build(writer, m, nullptr);
  std::uint64_t checksum = 0;
  std::size_t size = 0;
  Counters counters(state);
  for (auto _ : state) {
    auto bytes = form.build(writer, m, nullptr);
    keep(bytes);
    checksum = form.verify(bytes.data(), bytes.size()) ? form.read(bytes.data()) : 0;
    keep(checksum);
    size = bytes.size();
  }
  counters.finish(size, checksum & 0xFFF);
}

/// What registered benchmarks refer to; a deque never moves what it holds.
struct TypedFixture {
  Fixture without_args;  // The message less its arguments: the floor of any encoding of them.
  // Every argument's value null: in the tagged form a table holding only its key, the floor
  // of any form with one table per argument.
  Source keys_only;
  AlignedBytes union_bytes;
  AlignedBytes tagged_bytes;
  AlignedBytes columnar_bytes;
};
std::deque<TypedFixture> g_fixtures;

void add(const Fixture& f, const std::string& name, std::int64_t iterations,
         std::function<void(benchmark::State&)> fn) {
  const auto full_name = f.source.name + "/" + name;
  auto* bench = benchmark::RegisterBenchmark(full_name.c_str(), std::move(fn));
  if (iterations > 0) bench->Iterations(iterations);
}

}  // namespace

bool check_typed(const Fixture& f) {
  const FixedStamp fixed{wire::MessageId(0x0190B1C2D3E47F00ULL, 0x8A1B2C3D4E5F6A7BULL),
                         1'718'000'000'123'456'789};
  FlatcWriter flatc;
  UnionWriter union_writer;
  TaggedWriter tagged_writer;
  ColumnarWriter columnar_writer;
  const AlignedBytes flex(build_flatc(flatc, f.source, &fixed));
  const AlignedBytes typed_union(build_union(union_writer, f.source, &fixed));
  const AlignedBytes typed_tagged(build_tagged(tagged_writer, f.source, &fixed));
  const AlignedBytes columnar(build_columnar(columnar_writer, f.source, &fixed));
  const bool verified = verify_union(typed_union.data(), typed_union.size) &&
                        verify_tagged(typed_tagged.data(), typed_tagged.size) &&
                        verify_columnar(columnar.data(), columnar.size);
  const auto expected = read_flatc(flex.data());
  const bool agree = verified && read_union(typed_union.data()) == expected &&
                     read_tagged(typed_tagged.data()) == expected &&
                     read_columnar(columnar.data()) == expected;
  // Keyed lookup is kept: the arguments are sorted, so the generated LookupByKey finds one.
  bool found = true;
  if (!f.source.args.empty()) {
    const auto& [key, value] = f.source.args.front();
    const auto* u = tu::GetMessage(typed_union.data())->arguments()->LookupByKey(key.c_str());
    const auto* t = tg::GetMessage(typed_tagged.data())->arguments()->LookupByKey(key.c_str());
    const auto c = find_columnar(columnar.data(), key);
    const auto* c_key = c ? cl::GetMessage(columnar.data())
                                ->arguments()
                                ->keys()
                                ->Get(static_cast<flatbuffers::uoffset_t>(*c))
                          : nullptr;
    found = u != nullptr && t != nullptr && c_key != nullptr &&
            std::string_view(c_key->c_str(), c_key->size()) == key &&
            std::string_view(u->key()->c_str(), u->key()->size()) == key &&
            std::string_view(t->key()->c_str(), t->key()->size()) == key;
  }
  std::fprintf(stderr,
               "%-4s: %zu bytes flatc (FlexBuffers arguments), %zu bytes typed union, %zu bytes "
               "typed tagged, %zu bytes typed columnar; checksums %s, keyed lookup %s\n",
               f.source.name.c_str(), flex.size, typed_union.size, typed_tagged.size, columnar.size,
               agree ? "agree" : "DIFFER", found ? "finds" : "FAILS");
  return agree && found;
}

void register_typed(const Fixture& f, std::int64_t iterations) {
  if (f.source.args.empty()) return;  // Nothing to compare: the forms differ only there.
  auto& t = g_fixtures.emplace_back();
  t.without_args.source = f.source;
  t.without_args.source.args.clear();
  t.keys_only = f.source;
  for (auto& arg : t.keys_only.args) arg.second = mes::Value(nullptr);
  t.union_bytes = built(kUnion, f.source);
  t.tagged_bytes = built(kTagged, f.source);
  t.columnar_bytes = built(kColumnar, f.source);
  const auto& m = f.source;
  add(f, "build/typed_union_reused", iterations, [&m](auto& s) { typed_build(s, kUnion, m); });
  add(f, "build/typed_tagged_reused", iterations, [&m](auto& s) { typed_build(s, kTagged, m); });
  add(f, "build/flatc_reused_without_args", iterations,
      [&t](auto& s) { flatc_build(s, t.without_args); });
  add(f, "build/typed_columnar_reused", iterations,
      [&m](auto& s) { typed_build(s, kColumnar, m); });
  add(f, "build/typed_tagged_keys_only", iterations,
      [&t](auto& s) { typed_build(s, kTagged, t.keys_only); });
  add(f, "verify/typed_union_verifier", iterations,
      [&t](auto& s) { typed_verify(s, kUnion, t.union_bytes); });
  add(f, "verify/typed_tagged_verifier", iterations,
      [&t](auto& s) { typed_verify(s, kTagged, t.tagged_bytes); });
  add(f, "verify/typed_columnar_verifier", iterations,
      [&t](auto& s) { typed_verify(s, kColumnar, t.columnar_bytes); });
  add(f, "read/typed_union", iterations, [&t](auto& s) { typed_read(s, kUnion, t.union_bytes); });
  add(f, "read/typed_tagged", iterations,
      [&t](auto& s) { typed_read(s, kTagged, t.tagged_bytes); });
  add(f, "read/typed_columnar", iterations,
      [&t](auto& s) { typed_read(s, kColumnar, t.columnar_bytes); });
  add(f, "verify_read/typed_union", iterations,
      [&t](auto& s) { typed_verify_read(s, kUnion, t.union_bytes); });
  add(f, "verify_read/typed_tagged", iterations,
      [&t](auto& s) { typed_verify_read(s, kTagged, t.tagged_bytes); });
  add(f, "verify_read/typed_columnar", iterations,
      [&t](auto& s) { typed_verify_read(s, kColumnar, t.columnar_bytes); });
  add(f, "round_trip/typed_union", iterations, [&m](auto& s) { typed_round_trip(s, kUnion, m); });
  add(f, "round_trip/typed_tagged", iterations, [&m](auto& s) { typed_round_trip(s, kTagged, m); });
  add(f, "round_trip/typed_columnar", iterations,
      [&m](auto& s) { typed_round_trip(s, kColumnar, m); });
  add(f, "round_trip/flatc_without_args", iterations,
      [&t](auto& s) { flatc_round_trip(s, t.without_args); });
  add(f, "round_trip/typed_tagged_keys_only", iterations,
      [&t](auto& s) { typed_round_trip(s, kTagged, t.keys_only); });
}

}  // namespace mlops::bench::message
