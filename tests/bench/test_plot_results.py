"""bench/plot_results.py draws RESULTS.md's pictures from benchmark JSON: checked on a small
made-up run (figures known), and on a run with nothing to draw."""

import json
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "plot_results.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def entry(name, **counters):
    return {"name": name, "run_name": name, "run_type": "aggregate", "aggregate_name": "median",
            "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ms", **counters}


def write_run(folder, binary, entries):
    path = folder / f"{binary}.json"
    path.write_text(json.dumps({"context": {}, "benchmarks": entries}))
    return path


def run(folder, files):
    out = folder / "figures"
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out, done.stdout.split()


def test_draws_throughput_and_latency_beside_their_floors(tmp_path):
    orchestration = write_run(tmp_path, "orchestration_bench", [
        entry("BM_Inproc_Throughput/200/1/manual_time", items_per_second=4e6),
        entry("BM_Ring_Throughput/200/1/manual_time", items_per_second=8e6),
        entry("BM_Inproc_RoundTrip/200/100/manual_time",
              **{"rtt_p50_ns": 900, "rtt_p99_ns": 4000, "rtt_p99.9_ns": 9000}),
        entry("BM_Ring_RoundTrip/200/manual_time",
              **{"rtt_p50_ns": 300, "rtt_p99_ns": 2000, "rtt_p99.9_ns": 5000}),
    ])
    redis = write_run(tmp_path, "redis_bench", [
        entry("BM_Paired_Produce/200/iterations:10/manual_time", mlops_per_second=2e5,
              raw_per_second=2.1e5, mlops_over_raw=0.95),
    ])
    out, written = run(tmp_path, [orchestration, redis])
    assert sorted(pathlib.Path(p).name for p in written) == ["latency.png", "throughput.png"]
    for name in ("throughput.png", "latency.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 5000  # a drawn chart, not an empty canvas


def test_a_run_with_nothing_to_draw_writes_no_picture_and_removes_stale_ones(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "latency.png").write_bytes(PNG_MAGIC)  # from an earlier run
    other = write_run(tmp_path, "message_bench", [entry("seed/build/mlops")])
    out, written = run(tmp_path, [other])
    assert written == []
    assert not (out / "throughput.png").exists()
    assert not (out / "latency.png").exists()
