#!/usr/bin/env python3
"""Prints the per-run tables of docs/memorization-frontier.md from finished frontier sweeps (docs/tools/frontier-study.sh).

usage: frontier_study_table.py SWEEP_DIR...   (e.g. runs/frontier-n16 runs/frontier-n16-seed1)
One row per run, in the order p = 0, 0.4, ...: the copy statistics of its samples with their bootstrap intervals
(report/report.json, pixels), the attacks' AUC with intervals and TPR at 1% FPR (membership.json), the generalization
gap (report/quality.json) and quality in the classifier's space with floors (report/evaluation/classifier/metrics.json).
`ambient frontier` gives the mean ± sd over seeds of the same numbers.
"""
import os
import re
import sys

from run_reports import attacks, copies, generalization_gap, quality, with_interval


def p_of(name):
    match = re.match(r"p=([0-9.]+)", name)
    return float(match.group(1)) if match else float("inf")


def row(run):
    c, q, gap, found = copies(run), quality(run), generalization_gap(run), attacks(run)
    iv = c.get("intervals", {})

    def auc(name):
        a = found.get(name)
        return with_interval(a["auc"], a.get("auc_interval")) if a else "—"

    def tpr(name):
        return f"{found[name]['tpr_at_1pct_fpr']:.2f}" if name in found else "—"

    return " | ".join([
        with_interval(c["frac_ratio_lt_third"], iv.get("frac_ratio_lt_third")),
        with_interval(c["frac_d1_lt_0_05"], iv.get("frac_d1_lt_0_05")),
        auc("loss"), auc("loss_observed"), auc("pia"),
        f"{tpr('loss')} / {tpr('loss_observed')} / {tpr('pia')}",
        f"{gap['fd_samples']:.2f} / {gap['fd_samples_train']:.2f}",
        f"{q['fd']['value']:.1f} ({q['fd']['floor']:.2f})",
        f"{q['precision']['value']:.3f}",
        f"{q['recall']['value']:.3f} ({q['recall']['floor']:.3f})",
    ])


def main(sweeps):
    for sweep in sweeps:
        print(f"\n{os.path.basename(sweep.rstrip('/'))}\n")
        print("| p | flagged d1/d2 < 1/3 | d1 < 0.05 | loss AUC | corruption-aware loss AUC | PIA AUC | TPR@1%FPR (loss / aware / PIA) "
              "| pixel FD to held-out / to train | FD (floor) | precision | recall (floor) |")
        print("|---" * 11 + "|")
        for name in sorted((n for n in os.listdir(sweep) if n.startswith("p=")), key=p_of):
            run = os.path.join(sweep, name)
            try:
                print(f"| {p_of(name):g} | {row(run)} |")
            except (OSError, KeyError, TypeError) as e:
                print(f"| {p_of(name):g} | not finished ({e.__class__.__name__}: {e}) |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
