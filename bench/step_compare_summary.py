#!/usr/bin/env python3
"""Summarises a bench/step-compare.sh directory: per precision, the median of each side's per-process medians, and
the geometric mean of the per-round C#/PyTorch ratios with a 2-standard-error interval; plus, per side, the
bf16/fp32 ratio of the medians.  Usage: step_compare_summary.py DIR CASE"""
import glob
import json
import math
import os
import re
import statistics
import sys


def main():
    folder, case = sys.argv[1], sys.argv[2]
    runs = {}
    for path in glob.glob(os.path.join(folder, "*.json")):
        m = re.match(r"(pytorch|csharp)-(fp32|bf16)-r(\d+)\.json$", os.path.basename(path))
        if not m:
            continue
        with open(path) as f:
            median = json.load(f)["benchmarks"][case]["median_us"] / 1e3
        runs[(m.group(1), m.group(2), int(m.group(3)))] = median
    medians = {}
    print(f"{case}: {folder}")
    for precision in ("fp32", "bf16"):
        rounds = sorted(r for (s, p, r) in runs if s == "pytorch" and p == precision and ("csharp", p, r) in runs)
        if not rounds:
            continue
        py = [runs[("pytorch", precision, r)] for r in rounds]
        cs = [runs[("csharp", precision, r)] for r in rounds]
        logs = [math.log(c / p) for c, p in zip(cs, py)]
        mean = statistics.fmean(logs)
        se = statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else float("nan")
        medians[precision] = (statistics.median(py), statistics.median(cs))
        print(f"  {precision}: {len(rounds)} rounds; PyTorch median {medians[precision][0]:.1f} ms "
              f"(range {min(py):.1f}-{max(py):.1f}), C# median {medians[precision][1]:.1f} ms "
              f"(range {min(cs):.1f}-{max(cs):.1f}); C#/PyTorch geometric mean {math.exp(mean):.3f} "
              f"[{math.exp(mean - 2 * se):.3f}, {math.exp(mean + 2 * se):.3f}], ratio of medians "
              f"{medians[precision][1] / medians[precision][0]:.3f}")
    if "fp32" in medians and "bf16" in medians:
        print(f"  bf16 / fp32 (ratio of medians): PyTorch {medians['bf16'][0] / medians['fp32'][0]:.3f}, "
              f"C# {medians['bf16'][1] / medians['fp32'][1]:.3f}; C# bf16 / PyTorch fp32 "
              f"{medians['bf16'][1] / medians['fp32'][0]:.3f}")


if __name__ == "__main__":
    main()
