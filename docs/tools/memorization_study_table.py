#!/usr/bin/env python3
"""Prints the table of docs/memorization-study.md from a finished `ambient sweep configs/fmnist-memorization.yaml`.

usage: memorization_study_table.py SWEEP_DIR   (e.g. runs/fmnist-memorization)
Per run: the copy statistics of its samples beside the held-out -> train baseline (report/report.json), and its
quality in the auto-classifier's feature space beside the floor (report/evaluation/classifier/metrics.json).
"""
import os
import sys

from run_reports import load, median, space, subset


def main(sweep):
    print("| run | flagged d1/d2 < 1/3 (held-out) | median d1 (held-out) | d1 < 0.05 (held-out) | Carlini (held-out) "
          "| classifier median top-1 cosine (held-out) | FD (floor) | precision (floor) | recall (floor) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in sorted(os.listdir(sweep)):
        base = os.path.join(sweep, run, "report")
        if not os.path.exists(os.path.join(base, "report.json")):
            continue
        report = load(os.path.join(base, "report.json"))
        pixels = space(report, "pixels")
        s, h = subset(pixels, "samples"), subset(pixels, "heldout_train")
        cls = space(report, "classifier")
        cs, ch = subset(cls, "samples"), subset(cls, "heldout_train")
        cells = [run,
                 f"{s['frac_ratio_lt_third']:.3f} ({h['frac_ratio_lt_third']:.3f})",
                 f"{median(s['d1']):.3f} ({median(h['d1']):.3f})",
                 f"{s['frac_d1_lt_0_05']:.3f} ({h['frac_d1_lt_0_05']:.3f})",
                 f"{s['frac_carlini']:.3f} ({h['frac_carlini']:.3f})",
                 f"{median(cs['cos1']):.4f} ({median(ch['cos1']):.4f})" if cs else "–"]
        metrics_path = os.path.join(base, "evaluation", "classifier", "metrics.json")
        if os.path.exists(metrics_path):
            m = load(metrics_path)
            cells += [f"{m[k]['value']:.3g} ({m[k]['floor']:.3g})" for k in ("fd", "precision", "recall")]
        else:
            cells += ["–"] * 3
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
