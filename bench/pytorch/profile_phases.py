#!/usr/bin/env python3
"""Splits the PyTorch train step of reference_bench.py into phases, as the C# bench's --profile does:
forward + mse_loss, backward, optimizer (Adam step + zero_grad(set_to_none=False)). Medians in ms over
`--samples` steps after the same warm-up (1 + 5 steps). Diagnostic only; the recorded numbers come from
reference_bench.py.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/profile_phases.py --threads 2
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_bench import SmallUNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = SmallUNet()
    x = torch.randn(16, 1, 32, 32)
    target = torch.randn(16, 1, 32, 32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    pc = time.perf_counter
    fwd, bwd, optim, total = [], [], [], []
    faults0 = 0
    for i in range(6 + args.samples):
        if i == 6:
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            faults0 = ru0.ru_minflt
        t0 = pc()
        loss = F.mse_loss(model(x), target)
        t1 = pc()
        loss.backward()
        t2 = pc()
        opt.step()
        opt.zero_grad(set_to_none=False)
        t3 = pc()
        if i >= 6:
            fwd.append(t1 - t0); bwd.append(t2 - t1); optim.append(t3 - t2); total.append(t3 - t0)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    faults = (ru.ru_minflt - faults0) / args.samples
    user = (ru.ru_utime - ru0.ru_utime) * 1e3 / args.samples
    sys_ms = (ru.ru_stime - ru0.ru_stime) * 1e3 / args.samples
    ms = lambda v: float(np.median(v) * 1e3)
    print(json.dumps({
        "framework": "pytorch", "threads": torch.get_num_threads(), "samples": args.samples,
        "forward_loss_ms": ms(fwd), "backward_ms": ms(bwd), "optimizer_ms": ms(optim), "total_ms": ms(total),
        "minor_page_faults_per_step": faults,
        "cpu_user_ms_per_step": user, "cpu_sys_ms_per_step": sys_ms,
        "loadavg_at_end": list(os.getloadavg()),
    }, indent=2))


if __name__ == "__main__":
    main()
