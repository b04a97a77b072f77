#!/usr/bin/env python3
"""Ratio table of the C# and PyTorch benchmark JSONs in a results folder (written by bench/run.sh as
{pytorch,csharp}-t<threads>-r<repeat>.json).

For every (threads, benchmark): the median over repeats of each side's per-run median, the spread of those
per-run medians (min..max), the p10..p90 of the per-iteration times pooled as the median of the runs' p10 and
p90, and the ratio C# / PyTorch of the medians. Ratios inside the noise (see docs/benchmarks.md) are marked "~".

  /usr/bin/python3 bench/compare.py bench/results/<run> [--markdown]
"""
import glob
import json
import os
import re
import statistics
import sys

BENCHES = ["add_small", "conv_small", "train_step_small_unet"]


def fmt(us):
    if us >= 10000:
        return f"{us / 1000:.1f} ms"
    if us >= 100:
        return f"{us:.0f} us"
    return f"{us:.2f} us"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    folder = args[0] if args else "."
    runs = {}  # (framework, threads) -> list of reports
    for path in sorted(glob.glob(os.path.join(folder, "*-t*-r*.json"))):
        m = re.match(r"(pytorch|csharp)-t(\d+)-r(\d+)\.json$", os.path.basename(path))
        if not m:
            continue
        with open(path) as f:
            runs.setdefault((m.group(1), int(m.group(2))), []).append(json.load(f))
    if not runs:
        sys.exit(f"no results in {folder}")

    def stats(framework, threads, bench):
        reports = [r for r in runs.get((framework, threads), []) if bench in r["benchmarks"]]
        if not reports:
            return None
        b = [r["benchmarks"][bench] for r in reports]
        meds = [x["median_us"] for x in b]
        return {
            "median": statistics.median(meds), "lo": min(meds), "hi": max(meds), "n": len(meds),
            "p10": statistics.median(x["p10_us"] for x in b), "p90": statistics.median(x["p90_us"] for x in b),
            "load": [r.get("loadavg_at_end", [None])[0] for r in reports],
        }

    rows = []
    for threads in sorted({t for _, t in runs}):
        for bench in BENCHES:
            py, cs = stats("pytorch", threads, bench), stats("csharp", threads, bench)
            if py is None or cs is None:
                continue
            ratio = cs["median"] / py["median"]
            # noise: the runs' medians overlap, or the ratio is inside the p10..p90 band of either side
            overlap = cs["lo"] <= py["hi"] and py["lo"] <= cs["hi"]
            rows.append((threads, bench, py, cs, ratio, overlap))

    head = ["threads", "benchmark", "PyTorch median", "(runs min..max)", "C# median", "(runs min..max)", "C#/PyTorch"]
    lines = []
    for threads, bench, py, cs, ratio, overlap in rows:
        lines.append([str(threads), bench, fmt(py["median"]), f"{fmt(py['lo'])}..{fmt(py['hi'])}",
                      fmt(cs["median"]), f"{fmt(cs['lo'])}..{fmt(cs['hi'])}",
                      f"{ratio:.2f}{' ~' if overlap else ''}"])
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for l in lines:
            print("| " + " | ".join(l) + " |")
    else:
        widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for l in lines:
            print("  ".join(c.ljust(w) for c, w in zip(l, widths)))
    print()
    print("runs per side:", ", ".join(f"{fw} t{t}: {len(v)}" for (fw, t), v in sorted(runs.items())))
    print("1-min load at the end of each run:",
          "; ".join(f"{fw} t{t}: {[round(r.get('loadavg_at_end', [0])[0], 2) for r in v]}"
                    for (fw, t), v in sorted(runs.items())))
    print("'~': the per-run medians of the two sides overlap (difference within run-to-run noise)")


if __name__ == "__main__":
    main()
