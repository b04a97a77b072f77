#!/usr/bin/env python3
"""Prints the tables of docs/synthetic-data.md from the outputs of docs/tools/conditional-study.sh.

usage: conditional_study_table.py OUT_DIR
Reads OUT_DIR/<model>/g<g>/{cas/cas.json, evaluation/metrics.json, represent/represent.json} (whichever exist).
"""
import json
import os
import sys

MODELS = ["clean", "ambient-p0.6", "naive-p0.6"]


def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def guidances(out, model):
    folder = os.path.join(out, model)
    if not os.path.isdir(folder):
        return []
    return sorted((d[1:] for d in os.listdir(folder) if d.startswith("g")), key=float)


def main(out):
    print("| model | g | CAS | real (same count) | CAS / real | real + synthetic | FD (floor) | precision (floor) | recall (floor) | density | coverage |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model in MODELS:
        for g in guidances(out, model):
            base = os.path.join(out, model, "g" + g)
            cas = load(os.path.join(base, "cas", "cas.json"))
            metrics = load(os.path.join(base, "evaluation", "metrics.json"))
            cells = [model, g]
            if cas:
                cells += [f"{cas['synthetic_only']['top1']:.4f}", f"{cas['real_only']['top1']:.4f}",
                          f"{cas['cas_over_real']:.3f}", f"{cas['augmented']['top1']:.4f}"]
            else:
                cells += ["–"] * 4
            if metrics:
                for key in ["fd", "precision", "recall"]:
                    cells.append(f"{metrics[key]['value']:.3g} ({metrics[key]['floor']:.3g})")
                cells += [f"{metrics['density']['value']:.3f}", f"{metrics['coverage']['value']:.3f}"]
            else:
                cells += ["–"] * 5
            print("| " + " | ".join(cells) + " |")
    print()
    print("| model | probe top-1, encoder on synthetic | encoder on real (SimCLR) | untrained encoder | synthetic / real |")
    print("|---|---|---|---|---|")
    for model in MODELS:
        represent = load(os.path.join(out, model, "g1", "represent", "represent.json"))
        if represent:
            print(f"| {model} | {represent['synthetic_encoder']['top1']:.4f} | {represent['real_encoder']['top1']:.4f} | "
                  f"{represent['untrained']['top1']:.4f} | {represent['synthetic_over_real']:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1])
