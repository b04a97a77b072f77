#!/usr/bin/env python3
"""Export an EDM (NVlabs/edm) or ambient-diffusion (giannisdaras/ambient-diffusion) network snapshot to safetensors,
for `ambient import`.

Run it with your copy of the reference code on PYTHONPATH (the snapshot pickles need its dnnlib and torch_utils):

    PYTHONPATH=/path/to/edm python3 tools/export_edm_snapshot.py network-snapshot-200000.pkl -o net.safetensors
    ambient import net.safetensors -o runs/edm-cifar10

The pickle is EDM's training snapshot (a dict holding the network under 'ema'; --key picks another entry) or a
pickled network module. Writes the network's state_dict as float32 and its constructor arguments as metadata (see
edm_safetensors.py for the format).
"""
import argparse
import os
import pickle
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import edm_safetensors  # noqa: E402


def source_of(net):
    """The reference the network's classes come from: only the ambient-diffusion code has gated convolutions."""
    conv = next((m for m in net.modules() if type(m).__name__ == "Conv2d"), None)
    return "giannisdaras/ambient-diffusion" if conv is not None and hasattr(conv, "gated") else "NVlabs/edm"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("snapshot", help="network-snapshot-*.pkl (or a pickled network)")
    parser.add_argument("-o", "--out", required=True, help="output .safetensors")
    parser.add_argument("--key", default="ema", help="entry of the snapshot dict holding the network (default: ema)")
    args = parser.parse_args()
    with open(args.snapshot, "rb") as f:
        data = pickle.load(f)
    net = data[args.key] if isinstance(data, dict) else data
    if not isinstance(net, torch.nn.Module) or not hasattr(net, "model"):
        sys.exit(f"{args.snapshot}: '{args.key}' is not a preconditioned network (an EDMPrecond-like module with .model)")
    state = {name: t.to(torch.float32) for name, t in net.state_dict().items()}
    metadata = edm_safetensors.snapshot_metadata(net, source_of(net))
    metadata["snapshot"] = os.path.basename(args.snapshot)
    tmp = args.out + ".tmp"
    edm_safetensors.save(tmp, state, metadata)
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(state)} tensors, {metadata['network_class']} from {metadata['source']}")


if __name__ == "__main__":
    main()
