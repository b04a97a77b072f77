#!/usr/bin/env python3
"""PyTorch reference side of the AmbientDiffusion side-by-side CPU benchmark.

Benchmarks (see README.md / SMALL_UNET.md):
  add_small              a + b, float32, 64 elements (per-op dispatch overhead)
  conv_small             F.conv2d(x[1,8,16,16], w[8,8,3,3], b[8], padding=1)
  train_step_small_unet  forward + MSE + backward + Adam(lr=1e-3) step +
                         zero_grad(set_to_none=False), batch 16, input [16,1,32,32]

Methodology: warm-up iterations are run and discarded; then `samples` timed
samples are taken, each timing `inner` back-to-back iterations with
time.perf_counter(); the per-iteration time of a sample is its elapsed time
divided by `inner`.  median/p10/p90 are over those per-sample per-iteration
times (in microseconds).  `iterations` = samples * inner timed iterations.

Run with:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/reference_bench.py --threads 2
"""
import argparse
import json
import math
import os
import platform
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------
# SmallUNet (spec: SMALL_UNET.md).  Attribute order == named_parameters() order.
# --------------------------------------------------------------------------
class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(8, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        s = x if self.skip is None else self.skip(x)
        return s + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.norm = nn.GroupNorm(8, c, eps=1e-6)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        h = self.norm(x)
        qkv = self.qkv(h).reshape(B, 3 * C, H * W)
        q, k, v = qkv[:, 0:C], qkv[:, C:2 * C], qkv[:, 2 * C:3 * C]   # each [B, C, HW]
        w = torch.bmm(q.transpose(1, 2), k) * (1.0 / math.sqrt(C))     # [B, HW, HW]
        w = torch.softmax(w, dim=-1)
        a = torch.bmm(v, w.transpose(1, 2))                            # [B, C, HW]
        a = a.reshape(B, C, H, W)
        return x + self.proj(a)


class SmallUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(1, 32, 3, padding=1)
        self.enc = ResBlock(32, 32)
        self.down = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.mid1 = ResBlock(64, 64)
        self.attn = AttnBlock(64)
        self.mid2 = ResBlock(64, 64)
        self.up_conv = nn.Conv2d(64, 32, 3, padding=1)
        self.dec = ResBlock(64, 32)
        self.norm_out = nn.GroupNorm(8, 32, eps=1e-6)
        self.conv_out = nn.Conv2d(32, 1, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        e = self.enc(h)                                   # [B,32,32,32]
        h = self.down(e)                                  # [B,64,16,16]
        h = self.mid1(h)
        h = self.attn(h)
        h = self.mid2(h)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.up_conv(h)                               # [B,32,32,32]
        h = torch.cat([h, e], dim=1)                      # [B,64,32,32]
        h = self.dec(h)                                   # [B,32,32,32]
        return self.conv_out(F.silu(self.norm_out(h)))    # [B,1,32,32]


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------
def bench(fn, warmup, samples, inner):
    for _ in range(warmup):
        fn()
    per_iter = np.empty(samples, dtype=np.float64)
    pc = time.perf_counter
    for s in range(samples):
        t0 = pc()
        for _ in range(inner):
            fn()
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
    }


def blas_info():
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    info = {"torch_BLAS_INFO": m.group(1) if m else None}
    # Which BLAS is actually mapped into the process (Debian torch links the
    # generic libblas.so.3 which update-alternatives points at some provider).
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if re.search(r"blas|lapack|mkl|dnnl|gomp|omp", os.path.basename(p)):
                    libs.add(p)
    except OSError:
        pass
    info["loaded_libs"] = sorted(libs)
    info["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS")
    info["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS")
    info["config_excerpt"] = [l.strip() for l in cfg.splitlines()
                              if re.search(r"MKL|OpenMP|LAPACK|CPU capability", l)]
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    ap.add_argument("--only", default=None,
                    help="comma-separated subset of add_small,conv_small,train_step_small_unet")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the number of samples (e.g. 0.2 for a quick run)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    sel = set(args.only.split(",")) if args.only else None
    want = lambda n: sel is None or n in sel
    ns = lambda n: max(5, int(round(n * args.scale)))

    results = {}

    # 1. add_small ---------------------------------------------------------
    if want("add_small"):
        torch.manual_seed(0)
        a = torch.randn(64)
        b = torch.randn(64)
        with torch.no_grad():
            results["add_small"] = bench(lambda: a + b, warmup=20000,
                                         samples=ns(200), inner=1000)

    # 2. conv_small --------------------------------------------------------
    if want("conv_small"):
        torch.manual_seed(0)
        x = torch.randn(1, 8, 16, 16)
        w = torch.randn(8, 8, 3, 3)
        bb = torch.randn(8)
        with torch.no_grad():
            results["conv_small"] = bench(lambda: F.conv2d(x, w, bb, padding=1),
                                          warmup=2000, samples=ns(200), inner=100)

    # 3. train_step_small_unet --------------------------------------------
    if want("train_step_small_unet"):
        torch.manual_seed(0)
        model = SmallUNet()
        x = torch.randn(16, 1, 32, 32)
        target = torch.randn(16, 1, 32, 32)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        losses = []

        def step():
            out = model(x)
            loss = F.mse_loss(out, target)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=False)
            return loss

        first_loss = float(step().detach())  # first step: also a warm-up
        r = bench(step, warmup=5, samples=ns(100), inner=1)
        r["param_count"] = int(sum(p.numel() for p in model.parameters()))
        r["first_loss"] = first_loss
        results["train_step_small_unet"] = r

    report = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cpu_count": os.cpu_count(),
        "blas": blas_info(),
        "loadavg_at_end": list(os.getloadavg()),
        "benchmarks": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
