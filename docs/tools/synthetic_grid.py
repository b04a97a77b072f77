#!/usr/bin/env python3
"""A picture of synthetic sets side by side: one row per class, N images of each set per row (grey, 2x upscaled).

usage: synthetic_grid.py OUT.png N DIR [DIR ...]   (each DIR holds the synthetic.npz that `ambient synthesize` writes)
"""
import struct
import sys
import zlib

import numpy as np


def write_png(path, grey):
    height, width = grey.shape
    raw = b"".join(b"\x00" + grey[y].tobytes() for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main(out, n, dirs):
    sets = [np.load(f"{d}/synthetic.npz") for d in dirs]
    classes = sorted(set(sets[0]["labels"].tolist()))
    h, w = sets[0]["images"].shape[1:3]
    gap, block = 2, 8
    rows = []
    for k in classes:
        row = []
        for s in sets:
            picks = s["images"][s["labels"] == k][:n, :, :, 0]
            row.append(np.concatenate([np.pad(p, ((0, 0), (0, gap)), constant_values=255) for p in picks], axis=1))
            row.append(np.full((h, block), 255, np.uint8))
        rows.append(np.pad(np.concatenate(row, axis=1), ((0, gap), (0, 0)), constant_values=255))
    grid = np.concatenate(rows, axis=0)
    write_png(out, np.kron(grid, np.ones((2, 2), np.uint8)))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
