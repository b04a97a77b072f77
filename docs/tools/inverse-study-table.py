"""Markdown table of an inverse-problem study: python3 docs/tools/inverse-study-table.py runs/study [prior ...]."""
import json
import statistics
import os
import sys

root = sys.argv[1]
priors = sys.argv[2:] or sorted(d for d in os.listdir(root) if d != "measurements" and os.path.isdir(os.path.join(root, d)))
tasks = ["inpaint-p0.6", "inpaint-p0.9", "sr4", "blur"]
print("| task | prior | method | PSNR (dB) ± s.e. | SSIM | ‖A x̂ − y‖ | KID (classifier space) | seconds |")
print("|---|---|---|---|---|---|---|---|")
baselines = {}
for task in tasks:
    for prior in priors:
        for method in ["mmps", "dps"]:
            path = os.path.join(root, prior, f"{task}-{method}", "report.json")
            if not os.path.exists(path):
                continue
            report = json.load(open(path))
            m = report["mean"]["reconstruction"]
            psnr = report["per_image"]["reconstruction"]["psnr"]
            se = statistics.stdev(psnr) / len(psnr) ** 0.5
            metrics = os.path.join(root, prior, f"{task}-{method}", "evaluation", "metrics.json")
            kid = json.load(open(metrics))["kid"] if os.path.exists(metrics) else None
            kid = f"{kid['value']:.3g} ± {kid['stds'][0]:.2g}" if kid else "–"
            print(f"| {task} | {prior} | {method} | {m['psnr']:.2f} ± {se:.2f} | {m['ssim']:.3f} | {m['consistency']:.3f} | {kid} | {report['sampling_seconds']:.0f} |")
            for name, b in report["mean"].items():
                if name != "reconstruction":
                    baselines[(task, name)] = b
    for (t, name), b in sorted(baselines.items()):
        if t == task:
            print(f"| {task} | – | {name} | {b['psnr']:.2f} | {b['ssim']:.3f} | {b['consistency']:.3f} | – | – |")
