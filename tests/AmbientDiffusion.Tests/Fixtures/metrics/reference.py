#!/usr/bin/python3
"""Reference values of the sample-quality metrics, from NumPy/SciPy, following the papers' definitions.

Writes reference.safetensors next to this script:
  real [120, 32], fake [100, 32] float64 features (fake: shifted, rescaled, with 5 exact copies of real rows, so
  that ties with ball radii are exercised), kid_first / kid_second int64 [10, 50] (an explicit KID subset schedule),
  and float64 scalars fd, mmd2_full, kid_mean, kid_std, precision, recall, density, coverage (k = 5).
and sanity.json: precision/recall/density/coverage of two disjoint standard-normal sets of 1000 rows in 1000-d, over
  several draws (mean and standard deviation), measured with the same reference code.

Run with Debian's Python: /usr/bin/python3 reference.py
"""
import json
import os
import struct

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist

K = 5
HERE = os.path.dirname(os.path.abspath(__file__))


def frechet_distance(a, b):
    """|mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^1/2), sample covariances (ddof 1), scipy's sqrtm."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s_a @ s_b)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(root.real))


def kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def unbiased_mmd2(x, y):
    """Bińkowski et al. 2018: unbiased MMD^2 with the cubic polynomial kernel."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.sum() / (m * n))


def kid(x, y, first, second):
    values = np.array([unbiased_mmd2(x[f], y[s]) for f, s in zip(first, second)])
    return float(values.mean()), float(values.std())  # ddof 0, as torch-fidelity


def kth_radius(x, k):
    """Distance to the k-th nearest other row: the (k+1)-th smallest distance, the row's own 0 included (prdc)."""
    d = cdist(x, x)
    return np.partition(d, k, axis=1)[:, k]


def prdc(real, fake, k):
    """Kynkäänniemi et al. 2019 (precision, recall), Naeem et al. 2020 (density, coverage); strict '<' as in prdc."""
    real_radii, fake_radii = kth_radius(real, k), kth_radius(fake, k)
    d = cdist(real, fake)  # [N real, M fake]
    inside_real = d < real_radii[:, None]
    precision = inside_real.any(axis=0).mean()
    recall = (d < fake_radii[None, :]).any(axis=1).mean()
    density = inside_real.sum(axis=0).mean() / k
    coverage = (d.min(axis=1) < real_radii).mean()
    return float(precision), float(recall), float(density), float(coverage)


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {np.float64: "F64", np.int64: "I64", np.uint8: "U8"}[array.dtype.type]
        blob = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    rng = np.random.default_rng(20240611)
    real = rng.standard_normal((120, 32))
    fake = rng.standard_normal((100, 32)) * 1.3 + 0.4
    fake[:5] = real[[3, 17, 40, 41, 99]]
    first = np.stack([rng.choice(len(fake), 50, replace=False) for _ in range(10)])
    second = np.stack([rng.choice(len(real), 50, replace=False) for _ in range(10)])
    kid_mean, kid_std = kid(fake, real, first, second)
    precision, recall, density, coverage = prdc(real, fake, K)
    scalars = {
        "fd": frechet_distance(fake, real),
        "mmd2_full": unbiased_mmd2(fake, real),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
    }
    tensors = {"real": real, "fake": fake, "kid_first": first.astype(np.int64), "kid_second": second.astype(np.int64)}
    tensors.update({name: np.array([value]) for name, value in scalars.items()})
    save_safetensors(os.path.join(HERE, "reference.safetensors"), tensors)
    print(json.dumps(scalars, indent=1))

    # Identical distributions in 1000-d: what the definitions give (not what one might expect).
    draws = []
    for seed in range(8):
        g = np.random.default_rng(1000 + seed)
        a, b = g.standard_normal((1000, 1000)), g.standard_normal((1000, 1000))
        draws.append(prdc(a, b, K))
    draws = np.array(draws)
    n, m = 1000, 1000
    coverage_expected = 1 - np.prod([(n - 1 - i) / (n + m - 1 - i) for i in range(K)])
    sanity = {
        "rows": 1000, "dims": 1000, "k": K, "draws": len(draws),
        "mean": dict(zip(["precision", "recall", "density", "coverage"], draws.mean(0).tolist())),
        "std": dict(zip(["precision", "recall", "density", "coverage"], draws.std(0, ddof=1).tolist())),
        "coverage_expected": float(coverage_expected),
    }
    with open(os.path.join(HERE, "sanity.json"), "w") as f:
        json.dump(sanity, f, indent=1)
        f.write("\n")
    print(json.dumps(sanity, indent=1))


if __name__ == "__main__":
    main()
