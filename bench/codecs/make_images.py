#!/usr/bin/python3
"""CelebA-like 178x218 RGB images from Fashion-MNIST's test images, for timing `ambient prepare` on JPEG and PNG.

   /usr/bin/python3 bench/codecs/make_images.py 2000 /tmp/codecs-bench
writes OUT/jpeg/NNNNNN.jpg (Pillow, quality 90, 4:2:0) and OUT/png/NNNNNN.png of the same pixels: each Fashion-MNIST
image bilinearly upscaled, tinted by its class, with Gaussian noise (sd 6) so PNG compresses like a photo.
Needs numpy, Pillow (python3-pil) and Debian's dataset-fashion-mnist.
"""
import gzip
import os
import sys

import numpy as np
from PIL import Image

DATA = "/usr/share/datasets/fashion-mnist"
count, out = int(sys.argv[1]), sys.argv[2]
images = np.frombuffer(gzip.open(f"{DATA}/t10k-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
labels = np.frombuffer(gzip.open(f"{DATA}/t10k-labels-idx1-ubyte.gz").read()[8:], np.uint8)
rng = np.random.default_rng(0)
tints = rng.uniform(0.4, 1.0, size=(10, 3))
for kind in ("jpeg", "png"):
    os.makedirs(os.path.join(out, kind), exist_ok=True)
for i in range(count):
    big = np.asarray(Image.fromarray(images[i]).resize((178, 218), Image.BILINEAR), np.float32)
    noise = rng.normal(0, 6, size=(218, 178, 3))
    image = Image.fromarray(np.clip(big[..., None] * tints[labels[i]] + 30 + noise, 0, 255).astype(np.uint8), "RGB")
    image.save(os.path.join(out, "jpeg", f"{i:06d}.jpg"), quality=90)
    image.save(os.path.join(out, "png", f"{i:06d}.png"))
