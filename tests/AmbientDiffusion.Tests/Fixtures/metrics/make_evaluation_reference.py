#!/usr/bin/python3
"""What `ambient evaluate` must report by default, from NumPy/SciPy: the metrics of the whole sample set against the
whole reference set (as EDM's fid.py, torch-fidelity and clean-fid compare), in the pixel feature space.

Writes evaluation_reference.safetensors next to this script:
  train [20, 1, 6, 6], heldout [60, 1, 6, 6], samples [60, 1, 6, 6] uint8 images (samples: brighter and less spread
  than the real images, so that every metric is away from its floor), and float64 scalars fd, kid (the unbiased MMD²
  of the whole sets: a KID subset as large as both sets is both sets), precision, recall, density, coverage (k = 5),
  each of the samples against all 60 held-out images. Pixel features are the images as float32 / 255, flattened.

Run with Debian's Python: /usr/bin/python3 make_evaluation_reference.py
"""
import json
import os

import numpy as np

from reference import K, frechet_distance, prdc, save_safetensors, unbiased_mmd2

HERE = os.path.dirname(os.path.abspath(__file__))


def pixels(images):
    """The pixel feature space: uint8 -> float32 in [0, 1], then float64 (the metrics' arithmetic)."""
    return (images.astype(np.float32) / np.float32(255)).reshape(len(images), -1).astype(np.float64)


def main():
    rng = np.random.default_rng(20261207)
    train = rng.integers(0, 256, (20, 1, 6, 6), dtype=np.uint8)
    heldout = rng.integers(0, 256, (60, 1, 6, 6), dtype=np.uint8)
    samples = np.clip(rng.normal(140, 70, (60, 1, 6, 6)), 0, 255).round().astype(np.uint8)
    fake, real = pixels(samples), pixels(heldout)
    precision, recall, density, coverage = prdc(real, fake, K)
    scalars = {
        "fd": frechet_distance(fake, real),
        "kid": unbiased_mmd2(fake, real),
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
    }
    tensors = {"train": train, "heldout": heldout, "samples": samples}
    tensors.update({name: np.array([value]) for name, value in scalars.items()})
    save_safetensors(os.path.join(HERE, "evaluation_reference.safetensors"), tensors)
    print(json.dumps(scalars, indent=1))


if __name__ == "__main__":
    main()
