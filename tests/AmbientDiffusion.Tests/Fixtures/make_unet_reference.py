#!/usr/bin/env python3
"""Reference outputs of the DDPM++ U-Net with EDM preconditioning, from the PyTorch implementation in
bench/pytorch/ambient/ambient_unet.py, for ModelReferenceTests. Run with Debian's PyTorch:

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/AmbientDiffusion.Tests/Fixtures/make_unet_reference.py

Writes unet_reference.safetensors next to this script: for each variant (ungated, gated) the weights as
"<variant>/model.<name>", the inputs x, sigma, mask and the denoised output D(x, sigma, mask).
Weights are perturbed away from EDM's initialisation (whose zero-initialised layers would hide errors).
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "bench", "pytorch", "ambient"))
from ambient_unet import EDMPrecond, UNetConfig  # noqa: E402

CONFIG = dict(img_resolution=16, in_channels=1, mask_channels=1, model_channels=8, channel_mult=[1, 2],
              num_blocks=1, attn_resolutions=[8], dropout=0.0)


def save_safetensors(path, tensors, metadata):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    torch.manual_seed(2024)
    torch.set_num_threads(1)
    tensors = {}
    for variant, gated in (("ungated", False), ("gated", True)):
        net = EDMPrecond(UNetConfig(gated=gated, **CONFIG)).eval()
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        x = torch.randn(2, 1, 16, 16)
        sigma = torch.tensor([0.3, 2.5])
        mask = (torch.rand(2, 1, 16, 16) > 0.4).float()
        with torch.no_grad():
            out = net(x, sigma, mask)
        for name, p in net.named_parameters():
            tensors[f"{variant}/{name}"] = p
        tensors[f"{variant}/x"], tensors[f"{variant}/sigma"] = x, sigma
        tensors[f"{variant}/mask"], tensors[f"{variant}/out"] = mask, out
    metadata = {"config": json.dumps(CONFIG), "generator": f"torch {torch.__version__}, make_unet_reference.py"}
    save_safetensors(os.path.join(HERE, "unet_reference.safetensors"), tensors, metadata)
    print(f"wrote {len(tensors)} tensors")


if __name__ == "__main__":
    main()
