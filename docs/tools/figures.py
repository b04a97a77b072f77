#!/usr/bin/env python3
"""Redraws the figures in docs/ from their committed data with the product's own chart code (`ambient figure`).

usage: python3 docs/tools/figures.py        (AMBIENT: the command that runs the CLI; default: the Release build's ambient.dll)

- docs/self-consuming-loops/loop-{fd,kid,precision,recall,coverage}.{png,svg}: from loop.md (per arm and generation the
  mean ± sd over seeds), one line per arm with its ± sd band, as `ambient loop` draws them.
- docs/memorization-study/*.{png,svg}: from the figure descriptions in docs/memorization-study/figures/*.json (the sweep
  chart's fractions and the pixel-d1 histograms' counts).
The pictures (story, neighbour and sample grids) need the runs' images, which are not committed: they are left as made.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOOP_METRICS = {  # column -> y label, as Loops/LoopSummary.cs names them
    "fd": "FD to held-out real images",
    "kid": "KID to held-out real images",
    "precision": "precision",
    "recall": "recall",
    "coverage": "coverage",
}


def ambient(spec_path, out_stem):
    default = f"dotnet {ROOT}/src/AmbientDiffusion.Cli/bin/Release/net10.0/ambient.dll"
    command = shlex.split(os.environ.get("AMBIENT", default)) + ["figure", spec_path, "-o", out_stem]
    subprocess.run(command, check=True)


def cell(text):
    """'228.2 ± 22.7189' -> (228.2, 22.7189); '0.3' -> (0.3, None); '' -> None."""
    text = text.strip()
    if not text:
        return None
    parts = [p.strip() for p in text.split("±")]
    return float(parts[0]), (float(parts[1]) if len(parts) > 1 else None)


def loop_specs(folder):
    lines = [l for l in open(os.path.join(folder, "loop.md"), encoding="utf-8") if l.startswith("| ")]
    header = [h.strip() for h in lines[0].strip().strip("|").split("|")]
    rows = [dict(zip(header, (c.strip() for c in l.strip().strip("|").split("|")))) for l in lines[1:]]
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    prefix = os.path.commonprefix(arms)
    prefix = prefix[: prefix.rfind("-") + 1] if len(arms) > 1 else ""
    for column, label in LOOP_METRICS.items():
        series = []
        for arm in arms:
            points = []
            for r in rows:
                if r["arm"] == arm and (value := cell(r[column])) is not None:
                    mean, sd = value
                    points.append([int(r["generation"]), mean] + ([sd] if sd is not None and int(r["n"]) > 1 else []))
            if points:
                series.append({"name": arm[len(prefix):], "points": points})
        yield f"loop-{column}", {"kind": "line", "title": f"{column} vs generation", "x_label": "generation", "y_label": label, "series": series}


def main():
    with tempfile.TemporaryDirectory() as scratch:
        loops = os.path.join(ROOT, "docs", "self-consuming-loops")
        for stem, spec in loop_specs(loops):
            path = os.path.join(scratch, stem + ".json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(spec, f, ensure_ascii=False)
            ambient(path, os.path.join(loops, stem))
    study = os.path.join(ROOT, "docs", "memorization-study")
    for name in sorted(os.listdir(os.path.join(study, "figures"))):
        if name.endswith(".json"):
            ambient(os.path.join(study, "figures", name), os.path.join(study, re.sub(r"\.json$", "", name)))


if __name__ == "__main__":
    sys.exit(main())
