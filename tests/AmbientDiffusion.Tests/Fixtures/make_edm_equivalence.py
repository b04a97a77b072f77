#!/usr/bin/env python3
"""Equivalence fixture for `ambient import`/`ambient export` (EdmInteropTests): small reference networks built by the
official sources, with random weights, and their denoiser outputs on fixed inputs.

The reference code is not part of this repository. Fetch NVlabs/edm and giannisdaras/ambient-diffusion, then run

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/AmbientDiffusion.Tests/Fixtures/make_edm_equivalence.py \
        --edm /path/to/edm --ambient /path/to/ambient-diffusion

Writes into edm_equivalence/ next to this script, for each variant:
  <variant>.safetensors   the network as tools/export_edm_snapshot.py writes it (state_dict + constructor arguments),
                          after checking that the reference rebuilds it from that file with load_state_dict(strict=True)
                          and gives the same output (the round trip the `ambient export` files rely on)
and io.safetensors with "<variant>/x", "/sigma", "/labels" (conditional variants) and "/out" = D(x, sigma, labels)
computed by the reference EDMPrecond in float32 (eval mode). Both sources' EDMPrecond are the same code; the ambient
one adds gated convolutions. Weights are perturbed away from EDM's initialisation, whose near-zero layers would hide
errors.
"""
import argparse
import importlib
import json
import os
import sys
import types

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools"))
import edm_safetensors  # noqa: E402

ARCH = dict(model_type="SongUNet", model_channels=8, channel_mult=[1, 2], num_blocks=1, attn_resolutions=[8], dropout=0.0)
# name: (reference, label_dim, extra constructor arguments)
VARIANTS = {
    "edm_unconditional": ("edm", 0, {}),
    "edm_conditional": ("edm", 4, dict(augment_dim=9)),  # map_augment is not used when sampling; import drops it
    "ambient_gated": ("ambient", 0, dict(gated=True)),
    "ambient_gated_conditional": ("ambient", 4, dict(gated=True)),
}


def stub_missing(*names):
    """ambient-diffusion's dnnlib and torch_utils import s3fs, torchvision and wandb for I/O and logging, which networks.py never
    uses: stand-in empty modules where they are not installed, so only the network code runs."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            module = types.ModuleType(name)
            module.transforms = types.ModuleType(name + ".transforms")
            sys.modules[name] = module


def reference_networks(root):
    """training.networks of the checkout at `root`, imported on its own (both checkouts name their packages alike)."""
    for name in [m for m in sys.modules if m.split(".")[0] in ("training", "torch_utils", "dnnlib")]:
        del sys.modules[name]
    sys.path.insert(0, root)
    try:
        return importlib.import_module("training.networks")
    finally:
        sys.path.remove(root)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edm", required=True, help="checkout of NVlabs/edm")
    parser.add_argument("--ambient", required=True, help="checkout of giannisdaras/ambient-diffusion")
    args = parser.parse_args()
    torch.set_num_threads(1)
    stub_missing("s3fs", "torchvision", "wandb")
    out_dir = os.path.join(HERE, "edm_equivalence")
    os.makedirs(out_dir, exist_ok=True)
    io = {}
    for variant, (ref, label_dim, extra) in VARIANTS.items():
        networks = reference_networks(args.edm if ref == "edm" else args.ambient)
        torch.manual_seed(sum(map(ord, variant)))
        net = networks.EDMPrecond(img_resolution=16, img_channels=3, label_dim=label_dim, **ARCH, **extra).eval()
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        x = torch.randn(3, 3, 16, 16) * 0.8
        sigma = torch.tensor([0.05, 0.8, 12.0])
        labels = torch.tensor([[0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=torch.float32) if label_dim else None
        with torch.no_grad():
            out = net(x, sigma, labels)
        source = "NVlabs/edm" if ref == "edm" else "giannisdaras/ambient-diffusion"
        path = os.path.join(out_dir, f"{variant}.safetensors")
        edm_safetensors.save(path, net.state_dict(), edm_safetensors.snapshot_metadata(net, source))
        # The file alone rebuilds the same network in the reference code (strict load, same output).
        tensors, metadata = edm_safetensors.load(path)
        rebuilt = edm_safetensors.build(networks, metadata).eval()
        rebuilt.load_state_dict(tensors, strict=True)
        with torch.no_grad():
            assert torch.equal(rebuilt(x, sigma, labels), out), variant
        io[f"{variant}/x"], io[f"{variant}/sigma"], io[f"{variant}/out"] = x, sigma, out
        if labels is not None:
            io[f"{variant}/labels"] = labels
        print(f"{variant}: {len(tensors)} tensors, {sum(p.numel() for p in net.parameters())} parameters, |out| {out.norm():.4f}")
    metadata = {"generator": f"make_edm_equivalence.py, torch {torch.__version__}", "architecture": json.dumps(ARCH),
                "strict_round_trip": "every variant rebuilt from its file with load_state_dict(strict=True), same output"}
    edm_safetensors.save(os.path.join(out_dir, "io.safetensors"), io, metadata)


if __name__ == "__main__":
    main()
