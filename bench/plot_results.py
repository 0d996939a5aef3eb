#!/usr/bin/python3
"""Draws bench/RESULTS.md's pictures from Google Benchmark JSON files (bench/run's output).

    plot_results.py --out DIR RESULTS.json...

Writes DIR/throughput.png (each transport's msgs/s beside its floor, per message size and
process count: the pairs write_results.py tabulates) and DIR/latency.png (latency
percentiles beside the baseline's, from the same run). A picture with nothing to draw is
not written. Needs matplotlib (Debian: python3-matplotlib); prints the files it wrote.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import write_results  # noqa: E402  (the same pairs and figures as the tables)

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # no display
import matplotlib.pyplot as plt  # noqa: E402


def plot_throughput(figures, path):
    """Horizontal bars, library beside floor, msgs/s on a log scale; the ratio written."""
    if not figures:
        return False
    labels = [f[0] for f in figures]
    height = max(3.0, 0.45 * len(labels) + 1.0)
    fig, ax = plt.subplots(figsize=(11, height))
    rows = range(len(labels))
    ax.barh([r + 0.2 for r in rows], [f[2] for f in figures], height=0.4, color="#bbbbbb",
            label="floor (baseline in the same run)")
    ax.barh([r - 0.2 for r in rows], [f[1] for f in figures], height=0.4, color="#1f77b4",
            label="mlops")
    for row, (_, mine, _, ratio, target, _, _) in zip(rows, figures):
        mark = "" if target is None else (" ✓" if ratio >= target else f" (target {target}×)")
        ax.text(mine, row - 0.2, f" {ratio:.2f}×{mark}", va="center", fontsize=8)
    ax.set_yticks(list(rows))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("messages per second (wall clock, median)")
    ax.set_title("Throughput beside its floor")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_latency(figures, path):
    """One panel per pair: percentiles of the library and of its baseline, ns on a log scale."""
    if not figures:
        return False
    fig, axes = plt.subplots(1, len(figures), figsize=(5.5 * len(figures), 4), squeeze=False)
    for ax, (what, ours, base) in zip(axes[0], figures):
        points = [p for p in ("p50", "p99", "p99.9") if p in ours and p in base]
        x = range(len(points))
        ax.bar([i - 0.2 for i in x], [base[p] for p in points], width=0.4, color="#bbbbbb",
               label="baseline")
        ax.bar([i + 0.2 for i in x], [ours[p] for p in points], width=0.4, color="#1f77b4",
               label="mlops")
        for i, p in zip(x, points):
            ax.text(i + 0.2, ours[p], f"{ours[p] / base[p]:.1f}×", ha="center", va="bottom",
                    fontsize=8)
        ax.set_xticks(list(x))
        ax.set_xticklabels(points)
        ax.set_yscale("log")
        ax.set_ylabel("ns")
        ax.set_title(what, fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle("Latency percentiles beside the baseline (same run)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="+", help="Google Benchmark JSON output files")
    parser.add_argument("--out", required=True, help="directory for the PNG files")
    args = parser.parse_args()
    runs = write_results.load(args.json)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, draw, figures in (
            ("throughput.png", plot_throughput, write_results.transport_figures(runs)),
            ("latency.png", plot_latency, write_results.latency_figures(runs))):
        path = out / name
        if draw(figures, path):
            print(path)
        elif path.exists():
            path.unlink()  # stale: this run had nothing for it


if __name__ == "__main__":
    main()
