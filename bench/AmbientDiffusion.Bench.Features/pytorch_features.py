#!/usr/bin/env python3
"""The PyTorch side of bench/AmbientDiffusion.Bench.Features: the same TorchScript file, the same uint8 batches and
the same call (return_features=True, no grad), timed the same way. Prints one JSON line.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/AmbientDiffusion.Bench.Features/pytorch_features.py \
        --model FILE --images 256 --size 64 --batch 64 --threads 2 --repeats 3
"""
import argparse
import json
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--images", type=int, default=256)
parser.add_argument("--size", type=int, default=64)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()
torch.set_num_threads(args.threads)
module = torch.jit.load(args.model).eval()
images = torch.randint(0, 256, (args.images, 3, args.size, args.size), dtype=torch.uint8,
                       generator=torch.Generator().manual_seed(1))
rates = []
with torch.no_grad():
    module(images[: args.batch], return_features=True)  # warm-up (the profiling executor optimises on early calls)
    module(images[: args.batch], return_features=True)
    for _ in range(args.repeats):
        start = time.perf_counter()
        rows = [module(images[i: i + args.batch], return_features=True) for i in range(0, args.images, args.batch)]
        torch.cat(rows).cpu()
        rates.append(args.images / (time.perf_counter() - start))
print(json.dumps({"side": "pytorch", "model": args.model, "images": args.images, "size": args.size,
                  "batch": args.batch, "threads": args.threads, "img_per_s": sorted(rates),
                  "torch": torch.__version__}))
