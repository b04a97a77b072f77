#!/usr/bin/env python3
"""Load a network exported by `ambient export` into the reference code (NVlabs/edm, or
giannisdaras/ambient-diffusion for gated networks) and write it as an EDM snapshot pickle.

    ambient export -c runs/my-run -o net.safetensors
    PYTHONPATH=/path/to/edm python3 tools/load_edm_snapshot.py net.safetensors -o network-snapshot.pkl
    PYTHONPATH=/path/to/edm python3 /path/to/edm/generate.py --network network-snapshot.pkl --outdir out --seeds 0-63

Builds the reference network (training.networks from PYTHONPATH) with the constructor arguments in the file's
metadata, loads the weights with load_state_dict(strict=True), and pickles {'ema': net} as EDM's generate.py expects.
"""
import argparse
import os
import pickle
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import edm_safetensors  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", help="a .safetensors written by `ambient export`")
    parser.add_argument("-o", "--out", required=True, help="output network-snapshot .pkl")
    args = parser.parse_args()
    from training import networks  # the reference code on PYTHONPATH
    tensors, metadata = edm_safetensors.load(args.weights)
    net = edm_safetensors.build(networks, metadata)
    net.load_state_dict(tensors, strict=True)
    net.eval().requires_grad_(False)
    with open(args.out, "wb") as f:
        pickle.dump({"ema": net}, f)
    print(f"{args.out}: {type(net).__name__} with {sum(p.numel() for p in net.parameters())} parameters")


if __name__ == "__main__":
    main()
