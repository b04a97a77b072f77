#!/usr/bin/env python3
"""Times one ambient-diffusion training step of the DDPM++ U-Net (ambient_unet.py, SPEC.md) on the CPU.

One step = forward (EDM preconditioning, ambient loss of ambient-spec.md section 2 with B redrawn,
delta 0.1, reduction sum over pixels / mean over batch) + backward + clip_grad_norm_(1.0) +
Adam(lr 2e-4, betas (0.9, 0.999), eps 1e-8) step + zero_grad(set_to_none=False).
The model is in training mode (dropout 0.1 active).  Data: fixed y (uniform in [-1,1], zero where
masked) and fixed pixel masks A (shared over channels, keep probability 0.5); sigma, B and the noise
are drawn every step from one torch.Generator (seed 1).  Weights from torch.manual_seed(0).

Cases:
  small_ungated / small_gated        32x32, 1 image ch + 1 mask ch, model_channels 32, channel_mult [1,2,2],
                                     num_blocks 1, attention at 16, batch 8
  celeba64_ungated / celeba64_gated  the CelebA-64 paper network (3 + 1 ch, 128, [1,2,2,2], 4 blocks, attn 16),
                                     batch 2 (slow on the CPU: few steps)

Methodology (as bench/pytorch/reference_bench.py): warm-up steps discarded, then `samples` timed
samples of `inner` = 1 step each with time.perf_counter(); median/p10/p90 in microseconds.

Run:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/ambient/step_bench.py --threads 2 \\
          --out bench/pytorch/ambient/results-cpu.json
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # must precede the torch import

import argparse
import json
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ambient_unet as au  # noqa: E402


CASES = {
    # name: (config factory, gated, batch, default warmup, default samples)
    "small_ungated": (au.small_config, False, 8, 3, 50),
    "small_gated": (au.small_config, True, 8, 3, 30),
    "celeba64_ungated": (au.celeba64_config, False, 2, 1, 5),
    "celeba64_gated": (au.celeba64_config, True, 2, 1, 5),
}


def make_step(cfg, batch, delta=0.1, lr=2e-4, clip=1.0, bf16=False):
    torch.manual_seed(0)
    net = au.EDMPrecond(cfg).train()
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    r = cfg.img_resolution
    A = (torch.rand(batch, cfg.mask_channels, r, r) < 0.5).to(torch.float32)
    y = (torch.rand(batch, cfg.in_channels, r, r) * 2 - 1) * A
    gen = torch.Generator().manual_seed(1)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = au.reduce_loss(au.ambient_loss(net, y, A, delta=delta, generator=gen))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
        opt.zero_grad(set_to_none=False)
        return float(loss.detach())

    return net, step


def bench(step, warmup, samples, inner=1):
    losses = []
    for _ in range(warmup):
        losses.append(step())
    per_iter = np.empty(samples, dtype=np.float64)
    pc = time.perf_counter
    for s in range(samples):
        t0 = pc()
        for _ in range(inner):
            losses.append(step())
        per_iter[s] = (pc() - t0) / inner
    us = per_iter * 1e6
    return {
        "median_us": float(np.median(us)),
        "p10_us": float(np.percentile(us, 10)),
        "p90_us": float(np.percentile(us, 90)),
        "min_us": float(us.min()),
        "mean_us": float(us.mean()),
        "iterations": int(samples * inner),
        "samples": int(samples),
        "inner": int(inner),
        "warmup": int(warmup),
        "max_us": float(us.max()),
        "samples_us": [round(float(v), 1) for v in us],
        "first_loss": losses[0],
        "last_loss": losses[-1],
    }


def cpu_pressure():
    """/proc/pressure/cpu 'some' line (share of time some task waited for a CPU): other load on the box."""
    try:
        with open("/proc/pressure/cpu") as f:
            return f.readline().strip()
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default=None, help="comma-separated subset of " + ",".join(CASES))
    ap.add_argument("--samples", type=int, default=None, help="override the timed samples of every case")
    ap.add_argument("--out", default=None, help="also write the JSON here")
    ap.add_argument("--bf16", action="store_true", help="forward and loss under CPU bf16 autocast")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = args.only.split(",") if args.only else list(CASES)
    load_start = list(os.getloadavg())
    pressure_start = cpu_pressure()
    results = {}
    for name in names:
        mk, gated, batch, warmup, samples = CASES[name]
        cfg = mk(gated)
        net, step = make_step(cfg, batch, bf16=args.bf16)
        r = bench(step, warmup, args.samples or samples)
        r["batch"] = batch
        r["param_count"] = au.count_params(net)
        r["config"] = {k: v for k, v in vars(cfg).items()}
        r["loadavg_after"] = list(os.getloadavg())
        r["cpu_pressure_after"] = cpu_pressure()
        results[name] = r
        print(f"{name}: median {r['median_us'] / 1e3:.1f} ms  p10 {r['p10_us'] / 1e3:.1f}  "
              f"p90 {r['p90_us'] / 1e3:.1f}  ({r['iterations']} steps, {r['param_count']} params)",
              file=sys.stderr, flush=True)
        del net, step
    report = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cpu_count": os.cpu_count(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "step": "ambient loss fwd + bwd + clip_grad_norm_(1.0) + Adam(2e-4) + zero_grad(set_to_none=False)",
        "bf16_autocast": args.bf16,
        "loadavg_at_start": load_start,
        "loadavg_at_end": list(os.getloadavg()),
        "cpu_pressure_at_start": pressure_start,
        "cpu_pressure_at_end": cpu_pressure(),
        "note": "shared 2-core VM: the samples_us lists show steps slowed by other tenants; compare medians/mins",
        "benchmarks": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
