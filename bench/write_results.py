#!/usr/bin/env python3
"""Rewrites bench/RESULTS.md from Google Benchmark JSON output (bench/run calls this).

Every figure is the median of the repetitions of one run; every ratio is between two
benchmarks of that same run, as ../shared/docs/PERFORMANCE.md asks. Standard library only.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

MESSAGES = ("seed", "full")

# (what, ours, baselines, kind, factor, ours must not allocate)
#   kind "at_most": ours / baseline <= factor      (ratio shown as "1.05x")
#   kind "faster":  baseline / ours >= factor      (shown as "12.3x faster")
# With several baselines the fastest one counts.
TARGETS = [
    ("build, reused builder (`build_view`) vs hand-written flatc code",
     "build/mlops_reused_view", ["build/flatc_reused"], "at_most", 1.1, True),
    ("verify (`borrow`) vs raw `flatbuffers::Verifier`",
     "verify/mlops_borrow", ["verify/flatc_verifier"], "at_most", 1.1, False),
    ("verify (`from_bytes`: copy + verify) vs the same copy + raw Verifier",
     "verify/mlops_from_bytes", ["verify/flatc_copy_verifier"], "at_most", 1.1, False),
    ("read every field vs raw generated accessors",
     "read/mlops", ["read/flatc"], "at_most", 1.2, True),
    ("build vs protobuf (fill + serialise; faster of reused message and arena)",
     "build/mlops_reused_view", ["build/protobuf_reused", "build/protobuf_arena"], "faster", 1.5,
     False),
    ("build vs nlohmann::json dump",
     "build/mlops_reused_view", ["build/json"], "faster", 15.0, False),
    ("build + verify + read vs JSON dump + parse + read",
     "round_trip/mlops", ["round_trip/json"], "faster", 20.0, False),
]

# Issue 19's goals: the README's fresh-builder one-liner and the full message against
# hand-written FlatBuffers code and JSON. (message, what, ours, baselines, kind, factor,
# most allocations per message or None).
ISSUE19_TARGETS = [
    ("seed", "fresh builder + `build()` vs a fresh flatc builder, `Release()`d",
     "build/mlops_fresh", ["build/flatc_fresh"], "at_most", 1.1, 1),
    ("full", "fresh builder + `build()` vs a fresh flatc builder, `Release()`d",
     "build/mlops_fresh", ["build/flatc_fresh"], "at_most", 1.1, 1),
    ("seed", "`from_json` vs flatc's JSON parser (`idl.h`) + Verifier + an owned copy",
     "from_json/mlops", ["from_json/flatc_parser"], "at_most", 1.1, 1),
    ("full", "`from_json` vs flatc's JSON parser (`idl.h`) + Verifier + an owned copy",
     "from_json/mlops", ["from_json/flatc_parser"], "at_most", 1.1, 1),
    ("full", "verify (`borrow`) vs raw `flatbuffers::Verifier`",
     "verify/mlops_borrow", ["verify/flatc_verifier"], "at_most", 1.2, 0),
    ("full", "read every field vs raw generated accessors",
     "read/mlops", ["read/flatc"], "at_most", 1.1, 0),
    ("full", "build vs nlohmann::json dump",
     "build/mlops_reused_view", ["build/json"], "faster", 15.0, None),
    ("full", "build + verify + read vs JSON dump + parse + read",
     "round_trip/mlops", ["round_trip/json"], "faster", 20.0, None),
]

# Comparisons without a target, for context.
CONTEXT = [
    ("`build()` (owning copy), reused builder vs flatc + the same owned copy",
     "build/mlops_reused_owned", ["build/flatc_reused_owned"], "at_most"),
    ("build, fresh builder each time vs fresh flatc builder",
     "build/mlops_fresh", ["build/flatc_fresh"], "at_most"),
    ("build with the creator type as text (\"ETL\") vs as the enum",
     "build/mlops_reused_view_text_creator_type", ["build/mlops_reused_view"], "at_most"),
    ("build + verify + read vs hand-written flatc",
     "round_trip/mlops", ["round_trip/flatc"], "at_most"),
    ("build + verify + read vs protobuf serialise + parse + read",
     "round_trip/mlops", ["round_trip/protobuf"], "faster"),
    ("verify + read vs flatc Verifier + accessors",
     "verify_read/mlops", ["verify_read/flatc"], "at_most"),
    ("verify + read vs protobuf parse + read",
     "verify_read/mlops", ["verify_read/protobuf"], "faster"),
    ("verify + read vs JSON parse + read",
     "verify_read/mlops", ["verify_read/json"], "faster"),
    ("`to_json()` vs nlohmann::json dump",
     "to_json/mlops", ["build/json"], "at_most"),
    ("build vs `memcpy` of the same bytes (the floor)",
     "build/mlops_reused_view", ["copy/memcpy"], "at_most"),
]


def load(paths):
    """{binary: (context, {run_name: {aggregate: entry}})} from benchmark JSON files."""
    runs = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        table = {}
        for entry in data.get("benchmarks", []):
            name = entry.get("run_name", entry["name"])
            kind = entry.get("aggregate_name", "single")
            table.setdefault(name, {})[kind] = entry
        runs[Path(path).stem] = (data.get("context", {}), table)
    return runs


TIME_UNITS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def figure(table, name, key="cpu_time", aggregate="median"):
    """One figure of a benchmark; times in ns whatever unit the benchmark reported."""
    entry = table.get(name, {}).get(aggregate) or table.get(name, {}).get("single")
    if entry is None or key not in entry:
        return None
    value = float(entry[key])
    if key in ("real_time", "cpu_time") and aggregate != "cv":
        value *= TIME_UNITS.get(entry.get("time_unit", "ns"), 1.0)
    return value


def ns(value):
    if value is None:
        return "—"
    if value >= 10_000_000:
        return f"{value / 1e6:,.1f} ms"
    if value >= 10_000:
        return f"{value / 1000:,.1f} µs"
    if value >= 100:
        return f"{value:,.0f} ns"
    return f"{value:.1f} ns"


def allocs(value):
    if value is None:
        return "—"
    return f"{value:.0f}" if abs(value - round(value)) < 0.01 else f"{value:.2f}"


def compare(table, message, ours, baselines):
    """(ours ns, baseline name, baseline ns) with the fastest baseline."""
    ours_ns = figure(table, f"{message}/{ours}")
    best = None
    for baseline in baselines:
        value = figure(table, f"{message}/{baseline}")
        if value is not None and (best is None or value < best[1]):
            best = (baseline, value)
    if ours_ns is None or best is None:
        return None
    return ours_ns, best[0], best[1]


def target_rows(table, instructions, targets):
    """Markdown rows and the number held, for (message, what, ours, baselines, kind, factor,
    most allocations or None) tuples."""
    rows = []
    held = 0
    for message, what, ours, baselines, kind, factor, most_allocs in targets:
        result = compare(table, message, ours, baselines)
        if result is None:
            rows.append(f"| {message} | {what} | — | — | — | — | — | not run |")
            continue
        ours_ns, base_name, base_ns = result
        our_allocs = figure(table, f"{message}/{ours}", key="allocs")
        if kind == "at_most":
            ok = ours_ns / base_ns <= factor
            target = f"≤ {factor:g}×"
        else:
            ok = base_ns / ours_ns >= factor
            target = f"≥ {factor:g}× faster"
        if most_allocs is not None:
            target += ", 0 allocs" if most_allocs == 0 else f", ≤ {most_allocs} alloc"
            ok = ok and our_allocs is not None and our_allocs <= most_allocs + 0.01
        held += ok
        base_label = base_name.split("/", 1)[1]
        row = (f"| {message} | {what} | {ns(ours_ns)} | {ns(base_ns)} ({base_label}) | "
               f"{ratio_text(kind, ours_ns, base_ns)} | {target} | {allocs(our_allocs)} | "
               f"{'yes' if ok else '**no**'} |")
        if instructions:
            ours_i = instructions.get(f"{message}/{ours}")
            base_i = instructions.get(f"{message}/{base_name}")
            row += (f" {ours_i:,} / {base_i:,} = {ratio_text(kind, ours_i, base_i)} |"
                    if ours_i and base_i else " — |")
        rows.append(row)
    return rows, held


def ratio_text(kind, ours, base):
    ratio = ours / base if kind == "at_most" else base / ours
    text = f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.0f}×"
    return text if kind == "at_most" else text + " faster"


OPERATIONS = ("build", "verify", "read", "verify_read", "round_trip", "to_json", "copy")


def message_bench_order(name):
    """seed before full, operations in the order above, mlops first within one."""
    message, _, rest = name.partition("/")
    operation, _, impl = rest.partition("/")
    return (MESSAGES.index(message) if message in MESSAGES else len(MESSAGES),
            OPERATIONS.index(operation) if operation in OPERATIONS else len(OPERATIONS),
            not impl.startswith("mlops"), impl)


def engineering(value):
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def compiler(build_dir):
    cache = Path(build_dir) / "CMakeCache.txt"
    path, flags, build_type = "c++", "", ""
    if cache.exists():
        text = cache.read_text()
        found = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.*)$", text, re.M)
        path = found.group(1) if found else path
        found = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", text, re.M)
        build_type = found.group(1) if found else ""
        found = re.search(rf"^CMAKE_CXX_FLAGS_{build_type.upper()}:\w+=(.*)$", text, re.M)
        flags = found.group(1) if found else ""
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                 check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        version = path
    return f"{version} ({path}), {build_type} `{flags}`".strip()


# Transport targets (PERFORMANCE.md): each library figure over its baseline from the
# same binary and run, by messages per second (items_per_second, median).
def transport_pairs():
    """(binary, label, ours, baseline or "paired", target ratio or None, baseline name) for
    each transport figure beside its floor."""
    return [
        ("orchestration_bench", "inproc 1->1, 200 B", "BM_Inproc_Throughput/200/1/manual_time",
         "BM_Ring_Throughput/200/1/manual_time", 0.5, "plain SPSC ring"),
        ("orchestration_bench", "inproc 1->1, 2 KB", "BM_Inproc_Throughput/2048/1/manual_time",
         "BM_Ring_Throughput/2048/1/manual_time", 0.5, "plain SPSC ring"),
        ("orchestration_bench", "inproc 2->2 (one topic), 200 B",
         "BM_Inproc_Throughput/200/2/manual_time", "BM_Ring_Throughput/200/2/manual_time", 0.5,
         "two plain SPSC rings"),
        ("orchestration_bench", "inproc 2->2 (one topic), 2 KB",
         "BM_Inproc_Throughput/2048/2/manual_time", "BM_Ring_Throughput/2048/2/manual_time", 0.5,
         "two plain SPSC rings"),
        ("orchestration_bench", "inproc 2->2 (a topic per pair), 200 B",
         "BM_Inproc_ThroughputTopicPerPair/200/2/manual_time",
         "BM_Ring_Throughput/200/2/manual_time", 0.5, "two plain SPSC rings"),
        ("orchestration_bench", "inproc 2->2 (a topic per pair), 2 KB",
         "BM_Inproc_ThroughputTopicPerPair/2048/2/manual_time",
         "BM_Ring_Throughput/2048/2/manual_time", 0.5, "two plain SPSC rings"),
        ("mmap_bench", "mmap append, 200 B", "BM_Mmap_Append/200",
         "BM_Memcpy_MappedFile_Append/200", None, "memcpy into a mapped file"),
        ("mmap_bench", "mmap append, 2 KB", "BM_Mmap_Append/2048",
         "BM_Memcpy_MappedFile_Append/2048", None, "memcpy into a mapped file"),
        ("mmap_bench", "mmap append, 2 writer processes, 200 B",
         "BM_Mmap_Append2Procs/200/iterations:3/manual_time",
         "BM_Memcpy_MappedFile_Append2Procs/200/iterations:3/manual_time", None,
         "memcpy into a mapped file"),
        ("mmap_bench", "mmap read, 200 B", "BM_Mmap_Read/200", "BM_Memcpy_MappedFile_Read/200",
         None, "memcpy out of a mapped file"),
    ] + [
        # By the wall clock over 2 M messages into a fresh queue (issue 13's targets).
        ("mmap_scale_bench", f"mmap sustained append, {n} writer process{'es' if n > 1 else ''}, 200 B",
         f"BM_Mmap_SustainedAppend/{n}/iterations:1/manual_time",
         f"BM_Floor_Append/{n}/iterations:1/manual_time", 0.5 if n == 1 else None,
         "memcpy into a pre-faulted mapping, as many processes")
        for n in (1, 2, 4)
    ] + [
        # Context for the row above: the same memcpy into a file made within the run, so
        # every page is new to the kernel, as a fresh queue's are.
        ("mmap_scale_bench", f"mmap sustained append, {n} writer process{'es' if n > 1 else ''}, 200 B",
         f"BM_Mmap_SustainedAppend/{n}/iterations:1/manual_time",
         f"BM_FreshFileFloor_Append/{n}/iterations:1/manual_time", None,
         "memcpy into a file made in the run (fresh pages), as many processes")
        for n in (1, 2, 4)
    ] + [
        ("mmap_scale_bench", "mmap read of the 2 M, 200 B",
         "BM_Mmap_ReadLog/keep_mapped:0/iterations:3/manual_time",
         "BM_Floor_Read/iterations:3/manual_time", 0.35, "memcpy out of the segment files"),
        # Context: the floor through mappings made in the run (new page-table entries, as a
        # reader's), and the queue with its segments kept mapped (as the floor's are).
        ("mmap_scale_bench", "mmap read of the 2 M, 200 B",
         "BM_Mmap_ReadLog/keep_mapped:0/iterations:3/manual_time",
         "BM_FreshMapFloor_Read/iterations:3/manual_time", None,
         "memcpy out of the segment files, mapped in the run"),
        ("mmap_scale_bench", "mmap read of the 2 M, 200 B, segments kept mapped",
         "BM_Mmap_ReadLog/keep_mapped:1/iterations:3/manual_time",
         "BM_Floor_Read/iterations:3/manual_time", None, "memcpy out of the segment files"),
    ] + [
        ("mmap_scale_bench", f"mmap competing consumers, {n} member process{'es' if n > 1 else ''}, 200 B",
         f"BM_Mmap_CompetingConsumers/{n}/iterations:1/manual_time",
         "BM_Floor_Read/iterations:3/manual_time", None, "memcpy out of the segment files")
        for n in (1, 2, 4)
    ] + [
        # Kafka targets, paired: every iteration runs a raw pass and a library pass back to
        # back (order alternating), so both meet the same state of the shared machine; the
        # ratio is the median over repetitions of (raw time / library time). Raw sends or
        # reads the same records as the library (the payload and the header the issue
        # requires), with the same settings.
        ("kafka_bench", f"kafka {kind.lower()}, {size_label} (paired passes)",
         f"BM_Paired_{kind}/{size}/iterations:{iterations}/manual_time", "paired", 0.9,
         f"raw librdkafka {verb} the same records")
        for kind, iterations, verb in (("Produce", 20, "sending"), ("Consume", 10, "reading"))
        for size, size_label in ((200, "200 B"), (2048, "2 KB"))
    ] + [
        # Context: the same comparisons as separate benchmarks (each repetition of one apart
        # from the other's), and producing records without any header. librdkafka's cost
        # per record header (about 30% at 200 B, even for a 3-byte header) is not the
        # library's to remove.
        ("kafka_bench", f"kafka {kind.lower()}, {size_label} (separate runs)",
         f"BM_Mlops_{kind}/{size}/iterations:{iterations}/{timing}",
         f"BM_{base}_{kind}/{size}/iterations:{iterations}/{timing}", None, base_name)
        for kind, iterations, timing, base, base_name in (
            ("Produce", 20, "real_time", "RawHeader", "raw librdkafka sending the same records"),
            ("Consume", 10, "manual_time", "Raw", "raw librdkafka reading the same records"),
            ("Produce", 20, "real_time", "Raw", "raw librdkafka, bare payload without the header"))
        for size, size_label in ((200, "200 B"), (2048, "2 KB"))
    ] + [
        ("redis_bench", f"redis {kind.lower()}, {size_label} (paired passes)",
         f"BM_Paired_{kind}/{size}/iterations:{iterations}/manual_time", "paired", 0.9,
         f"raw hiredis {verb} the same entries, same pipelining")
        for kind, iterations, verb in (("Produce", 10, "sending"), ("Consume", 6, "reading"))
        for size, size_label in ((200, "200 B"), (2048, "2 KB"))
    ]


def transport_figures(runs):
    """(label, library msgs/s, baseline msgs/s, ratio, target, baseline name, binary) for each
    pair of transport_pairs() present in `runs`."""
    figures = []
    for binary, label, ours, base, target, base_name in transport_pairs():
        if binary not in runs:
            continue
        _, other = runs[binary]
        if base == "paired":
            mine = figure(other, ours, key="mlops_per_second")
            theirs = figure(other, ours, key="raw_per_second")
            ratio = figure(other, ours, key="mlops_over_raw")
        else:
            mine = figure(other, ours, key="items_per_second")
            theirs = figure(other, base, key="items_per_second")
            ratio = None if mine is None or theirs is None else mine / theirs
        if mine is None or theirs is None or ratio is None:
            continue
        figures.append((label, mine, theirs, ratio, target, base_name, binary))
    return figures


LATENCY_PAIRS = (
    # (binary, library benchmark, baseline benchmark, counter prefix, what)
    ("mmap_bench", "BM_Mmap_Latency/iterations:1/real_time",
     "BM_Memcpy_MappedFile_Latency/iterations:1/real_time", "", "mmap one-way, between processes"),
    ("orchestration_bench", "BM_Inproc_RoundTrip/200/100/manual_time",
     "BM_Ring_RoundTrip/200/manual_time", "rtt_", "inproc round trip, 200 B"),
)


def latency_figures(runs):
    """(what, {percentile: ns} of the library, of its baseline) for each LATENCY_PAIRS entry run."""
    out = []
    for binary, ours, base, prefix, what in LATENCY_PAIRS:
        if binary not in runs:
            continue
        _, other = runs[binary]
        both = []
        for name in (ours, base):
            points = {p: figure(other, name, key=f"{prefix}{p}_ns") for p in ("p50", "p99", "p99.9")}
            both.append({p: v for p, v in points.items() if v is not None})
        if both[0] and both[1]:
            out.append((what, both[0], both[1]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("json", nargs="+", help="Google Benchmark JSON output files")
    parser.add_argument("--output", required=True)
    parser.add_argument("--build-dir", default="")
    parser.add_argument("--load-average", default="")
    parser.add_argument("--instructions", help="'name count' lines from callgrind (bench/run)")
    args = parser.parse_args()

    runs = load(args.json)
    instructions = {}
    if args.instructions:
        for line in Path(args.instructions).read_text().splitlines():
            name, _, count = line.partition(" ")
            if count.strip().isdigit():
                instructions[name] = int(count)
    if "message_bench" not in runs:
        sys.exit("write_results.py: no message_bench results")
    context, table = runs["message_bench"]

    out = []
    add = out.append
    add("# Message-layer benchmark results")
    add("")
    add("Written by `bench/run` (do not edit by hand; rerun it). Targets and method: "
        "`../shared/docs/PERFORMANCE.md`. Only ratios between benchmarks of the same run "
        "mean anything; the absolute figures are for this machine on this day.")
    add("")
    add(f"- Date: {context.get('date', 'unknown')}")
    mhz = context.get("mhz_per_cpu")
    add(f"- Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}"
        + (f", {mhz} MHz" if mhz else "") + f"; Linux {platform.release()}"
        + (f"; load average at start {args.load_average}" if args.load_average else ""))
    add(f"- Compiler: {compiler(args.build_dir)}")
    libraries = [f"{key} {context[key]}" for key in ("flatbuffers", "protobuf", "nlohmann_json")
                 if key in context]
    add(f"- Libraries: {', '.join(libraries)}; Google Benchmark "
        f"(library built as {context.get('library_build_type', '?')})")
    any_entry = next(iter(next(iter(table.values())).values()))
    repetitions = any_entry.get("repetitions", "?")
    add(f"- Method: {repetitions} repetitions per benchmark, randomly interleaved; the median "
        "CPU time per operation (message_bench runs on one thread; CPU time is what preemption "
        "on a shared machine disturbs least); allocations are counted by a replaced global operator new "
        "(every form) and are per operation.")
    sizes = ", ".join(f"{m} {context.get(m + '_bytes', '?')} B" for m in MESSAGES)
    add(f"- Messages: seed (START, creator type ETL, creator, user message, next task, topic, "
        f"output) and full (every field, 8 additional arguments: int, double, bool, string, "
        f"bytes, list, map, null); FlatBuffers sizes {sizes}.")
    add("")

    add("## Targets")
    add("")
    if instructions:
        add("Timed ratios on a shared two-core machine move by ±10–20% from run to run; the "
            "instruction counts (callgrind, per operation, deterministic) beside them do not.")
        add("")
    add("| message | operation | mlops | baseline | ratio | target | allocs (mlops) | holds |"
        + (" instructions (mlops / baseline) |" if instructions else ""))
    add("|---|---|---:|---:|---:|---|---:|---|" + ("---:|" if instructions else ""))
    targets = [(message, what, ours, baselines, kind, factor, 0 if zero_allocs else None)
               for message in MESSAGES
               for what, ours, baselines, kind, factor, zero_allocs in TARGETS]
    rows, held = target_rows(table, instructions, targets)
    out.extend(rows)
    add("")
    add(f"{held} of {len(targets)} targets hold in this run.")
    add("")

    add("## Issue 19 targets (the same run)")
    add("")
    add("| message | operation | mlops | baseline | ratio | target | allocs (mlops) | holds |"
        + (" instructions (mlops / baseline) |" if instructions else ""))
    add("|---|---|---:|---:|---:|---|---:|---|" + ("---:|" if instructions else ""))
    rows, held = target_rows(table, instructions, ISSUE19_TARGETS)
    out.extend(rows)
    add("")
    add(f"{held} of {len(ISSUE19_TARGETS)} issue 19 targets hold in this run (timed).")
    add("")

    add("## Context (no target)")
    add("")
    add("| message | comparison | mlops | baseline | ratio |")
    add("|---|---|---:|---:|---:|")
    for message in MESSAGES:
        for what, ours, baselines, kind in CONTEXT:
            result = compare(table, message, ours, baselines)
            if result is None:
                continue
            ours_ns, base_name, base_ns = result
            add(f"| {message} | {what} | {ns(ours_ns)} | {ns(base_ns)} | "
                f"{ratio_text(kind, ours_ns, base_ns)} |")
    add("")

    add("## Every figure")
    add("")
    add("Median CPU time per operation, its coefficient of variation across repetitions, "
        "bytes on the wire (or of JSON text), heap allocations per operation, and the "
        "checksum of what was built or read (mlops and flatc agree where they read the same "
        "bytes; built messages carry a fresh id and time).")
    add("")
    add("### message_bench")
    add("")
    add("| benchmark | median | cv | bytes | allocs/op | checksum |"
        + (" instructions/op |" if instructions else ""))
    add("|---|---:|---:|---:|---:|---:|" + ("---:|" if instructions else ""))
    for name in sorted(table, key=message_bench_order):
        median = figure(table, name)
        cv = figure(table, name, aggregate="cv")
        size = figure(table, name, key="bytes")
        count = figure(table, name, key="allocs")
        checksum = figure(table, name, key="checksum")
        add(f"| `{name}` | {ns(median)} | "
            f"{'—' if cv is None else f'{cv * 100:.1f}%'} | "
            f"{'—' if size is None else f'{size:.0f}'} | {allocs(count)} | "
            f"{'—' if checksum is None else f'{checksum:.0f}'} |"
            + (f" {instructions[name]:,} |" if name in instructions else
               (" — |" if instructions else "")))

    transport_rows = []
    for label, mine, theirs, ratio, target, base_name, binary in transport_figures(runs):
        if target is None and binary == "mmap_bench" and "append, 200" in label:
            holds = "yes" if mine >= 10e6 else "**no**"
            goal = ">= 10 M msgs/s"
        elif target is not None:
            holds = "yes" if ratio >= target else "**no**"
            goal = f">= {target}x the baseline"
        else:
            holds, goal = "—", "—"
        transport_rows.append(f"| {label} | {engineering(mine)}/s | {engineering(theirs)}/s ({base_name}) "
                              f"| {ratio:.2f}x | {goal} | {holds} |")
    if "mmap_bench" in runs:
        _, other = runs["mmap_bench"]
        for name, label in (("BM_Mmap_Latency/iterations:1/real_time", "mmap"),
                            ("BM_Memcpy_MappedFile_Latency/iterations:1/real_time", "memcpy baseline")):
            p99 = figure(other, name, key="p99_ns")
            if p99 is None:
                continue
            p50 = figure(other, name, key="p50_ns")
            p999 = figure(other, name, key="p99.9_ns")
            goal = "p99 <= 1 us" if label == "mmap" else "—"
            holds = ("yes" if p99 <= 1000 else "**no**") if label == "mmap" else "—"
            transport_rows.append(f"| one-way latency between processes at 100 k msgs/s, {label} | "
                                  f"p50 {ns(p50)}, p99 {ns(p99)}, p99.9 {ns(p999)} | — | — | {goal} | {holds} |")
    if transport_rows:
        add("")
        add("## Transport targets")
        add("")
        add("| transport | library | baseline | ratio | target | holds |")
        add("|---|---:|---:|---:|---|---|")
        out.extend(transport_rows)
    # bench/plot_results.py's pictures of this run, when bench/run drew them.
    pictures = [(name, what) for name, what in
                (("throughput.png", "Throughput of each transport beside its floor"),
                 ("latency.png", "Latency percentiles beside the baseline"))
                if (Path(args.output).parent / "figures" / name).is_file()]
    if pictures:
        add("")
        add("## Pictures")
        add("")
        for name, what in pictures:
            add(f"![{what}](figures/{name})")
            add("")

    # Other benchmark binaries (the orchestration layer's): median wall time (they may run
    # threads or time themselves) and every counter they report.
    standard = {"name", "run_name", "run_type", "family_index", "per_family_instance_index",
                "repetitions", "repetition_index", "threads", "iterations", "real_time",
                "cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "error_occurred",
                "error_message", "label"}
    for binary in sorted(name for name in runs if name != "message_bench"):
        _, other = runs[binary]
        counters = sorted({key for entries in other.values() for entry in entries.values()
                           for key in entry if key not in standard})
        add("")
        add(f"### {binary}")
        add("")
        add("| benchmark | median (wall) | cv | " + " | ".join(counters) + " |")
        add("|---|---:|---:|" + "---:|" * len(counters))
        for name in sorted(other):
            median = figure(other, name, key="real_time")
            cv = figure(other, name, key="real_time", aggregate="cv")
            cells = []
            for counter in counters:
                value = figure(other, name, key=counter)
                cells.append("—" if value is None else engineering(value))
            add(f"| `{name}` | {ns(median)} | {'—' if cv is None else f'{cv * 100:.1f}%'} | "
                + " | ".join(cells) + " |")
    add("")
    add("Reproduce: `bench/run` (about five minutes on two cores); CI runs `bench/run --quick`. "
        "To count instructions per operation with callgrind: "
        "`valgrind --tool=callgrind --toggle-collect='*mlops_read(*' "
        "build/bench-run/bench/message_bench --benchmark_filter='^full/read/mlops' "
        "--mlops_iterations=2000`, then divide the total by 2000.")
    Path(args.output).write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
