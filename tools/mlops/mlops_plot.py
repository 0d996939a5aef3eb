#!/usr/bin/env python3
"""Draws `mlops perf --plot`: a latency histogram and throughput over time, side by side.

usage: mlops_plot.py DATA.json OUT.png   (DATA.json is what mlops perf writes for it)
"""
import json
import sys


def main(argv):
    if len(argv) != 3:
        print("usage: mlops_plot.py DATA.json OUT.png", file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError as error:
        print(f"mlops_plot.py: matplotlib is missing ({error}); apt-get install python3-matplotlib",
              file=sys.stderr)
        return 1
    with open(argv[1], encoding="utf-8") as data_file:
        data = json.load(data_file)
    summary = data["summary"]
    figure, (latency_axes, rate_axes) = plt.subplots(1, 2, figsize=(12, 4.5))
    latencies = data["latency_ms"]
    if latencies:
        latency_axes.hist(latencies, bins=60, color="#4472c4")
        for name, style in (("p50", "--"), ("p99", ":")):
            latency_axes.axvline(summary["latency_ms"][name], color="black", linestyle=style,
                                 label=f"{name} {summary['latency_ms'][name]:.3f} ms")
        latency_axes.legend()
    latency_axes.set_title("end-to-end latency")
    latency_axes.set_xlabel("ms (message timestamp to receive)")
    latency_axes.set_ylabel("messages")
    bucket = data["bucket_seconds"]
    for name, marker in (("sent", "o"), ("received", "x")):
        counts = data[f"{name}_per_bucket"]
        times = [(i + 1) * bucket for i in range(len(counts))]
        rate_axes.plot(times, [count / bucket for count in counts], marker=marker, label=name)
    rate_axes.set_title("throughput")
    rate_axes.set_xlabel("seconds into the run")
    rate_axes.set_ylabel("msgs/s")
    rate_axes.legend()
    figure.suptitle(f"mlops perf {summary['uri']}: {summary['producers']} producer(s), "
                    f"{summary['consumers']} consumer(s), {summary['size']} B")
    figure.tight_layout()
    figure.savefig(argv[2], dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
