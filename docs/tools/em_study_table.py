#!/usr/bin/env python3
"""Prints the tables of docs/em.md's head-to-head study from its finished runs (docs/tools/em-study.sh).

usage: em_study_table.py RUNS   (the folder holding em-study/, frontier-n16/ and the emmem-n16-* runs)
Part 1: each arm's final model, mean ± sd over training seeds 0 and 1: the CPU-seconds it spent on training and
E-steps (training ticks from metrics.jsonl, E-step and Gaussian-fit seconds from round.json; ambient -> EM also pays
its ambient start), quality in the classifier's feature space (report/evaluation/classifier/metrics.json) and the copy
statistics against its clean training images (report/report.json, pixels).
Part 2: the N = 16 memorization comparison, one seed: copies with bootstrap intervals, membership attacks, quality.
"""
import os
import re
import sys

from run_reports import (attacks, checkpoint_kimg, copies, generalization_gap, load, mean_sd, median, quality,
                         training_seconds, with_interval)


def warm_start(round_dir):
    """The checkpoint an EM round started from (em.checkpoint as the round recorded it), or None for a Gaussian start."""
    em = load(os.path.join(round_dir, "round.json"))["em"]
    init = re.search(r"^init: *(\S+)", em, re.M)
    path = re.search(r"^checkpoint: *(\S+)", em, re.M)
    return path.group(1) if init and init.group(1) == "checkpoint" and path else None


def em_rounds(em):
    rounds = 0
    while os.path.exists(os.path.join(em, f"round-{rounds:02d}", "round.json")):
        rounds += 1
    return rounds


def arm_run(study, arm, suffix):
    """The arm's final model directory and the CPU-seconds it spent."""
    if arm in ("clean", "naive", "ambient"):
        run = os.path.join(study, f"em-study-{arm}{suffix}")
        return run, training_seconds(run)
    em = os.path.join(study, f"em-study-{arm}{suffix}")
    seconds = 0.0
    for k in range(em_rounds(em)):
        round_dir = os.path.join(em, f"round-{k:02d}")
        seconds += load(os.path.join(round_dir, "round.json"))["e_step_seconds"] + training_seconds(round_dir)
    start = warm_start(os.path.join(em, "round-00"))
    if start:  # ambient -> EM also pays for the ambient training up to its starting checkpoint (RUN/checkpoints/FILE)
        seconds += training_seconds(os.path.dirname(os.path.dirname(start)), checkpoint_kimg(start))
    return os.path.join(em, f"round-{em_rounds(em) - 1:02d}"), seconds


def part1(runs):
    study = os.path.join(runs, "em-study")
    columns = [("seconds", 0), ("fd", 1), ("precision", 3), ("recall", 3), ("density", 3), ("coverage", 3), ("flagged", 3), ("d1<0.05", 3), ("d1 median", 3)]
    print("| arm | seeds | " + " | ".join(c for c, _ in columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    floors = []
    for arm in ("clean", "naive", "ambient", "gaussian", "from-ambient"):
        rows = []
        for suffix in ("", "-s1"):
            try:
                run, seconds = arm_run(study, arm, suffix)
                q, p = quality(run), copies(run)
            except (OSError, KeyError, StopIteration) as e:
                print(f"<!-- {arm}{suffix}: {e} -->", file=sys.stderr)
                continue
            rows.append({"seconds": seconds, **{k: q[k]["value"] for k in ("fd", "precision", "recall", "density", "coverage")},
                         "flagged": p["frac_ratio_lt_third"], "d1<0.05": p["frac_d1_lt_0_05"], "d1 median": median(p["d1"])})
            floors.append({k: q[k]["floor"] for k in ("fd", "precision", "recall", "density", "coverage")})
        if rows:
            print(f"| {arm} | {len(rows)} | " + " | ".join(mean_sd([r[c] for r in rows], d) for c, d in columns) + " |")
    if floors:
        print("\nfloors over the runs (held-out half against held-out half, seeded by each run's seed): " +
              ", ".join(f"{k} {min(f[k] for f in floors):.3f}–{max(f[k] for f in floors):.3f}" for k in floors[0]))


def interval(p, key):
    return with_interval(p[key], p.get("intervals", {}).get(key))


def part2(runs):
    cells = [("clean (frontier p = 0)", "frontier-n16/p=0.0_kind=edm"),
             ("ambient (frontier p = 0.6)", "frontier-n16/p=0.6_kind=ambient_sigma_min=0.2"),
             ("naive", "emmem-n16-naive"),
             ("EM from the Gaussian", "emmem-n16-gaussian/round-01"),
             ("ambient → EM", "emmem-n16-from-ambient/round-01")]
    print("\n| arm (N = 16, seed 0) | flagged [95% CI] | d1 < 0.05 [95% CI] | loss AUC [95% CI] | corruption-aware AUC | PIA AUC [95% CI] | TPR@1%FPR loss / PIA | FD (floor) | precision | recall (floor) | pixel FD to held-out / to train |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, rel in cells:
        run = os.path.join(runs, rel)
        try:
            p, q, gap = copies(run), quality(run), generalization_gap(run)
        except (OSError, KeyError, StopIteration) as e:
            print(f"<!-- {label}: {e} -->", file=sys.stderr)
            continue
        found = attacks(run)

        def auc(name):
            a = found.get(name)
            return with_interval(a["auc"], a.get("auc_interval")) if a else "—"

        def tpr(name):
            return f"{found[name]['tpr_at_1pct_fpr']:.2f}" if name in found else "—"

        print(f"| {label} | {interval(p, 'frac_ratio_lt_third')} | {interval(p, 'frac_d1_lt_0_05')} | {auc('loss')} | {auc('loss_observed')} | {auc('pia')} | "
              f"{tpr('loss')} / {tpr('pia')} | {q['fd']['value']:.1f} ({q['fd']['floor']:.2f}) | {q['precision']['value']:.3f} | "
              f"{q['recall']['value']:.3f} ({q['recall']['floor']:.3f}) | {gap['fd_samples']:.2f} / {gap['fd_samples_train']:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    part1(sys.argv[1])
    part2(sys.argv[1])
