"""Reference PSNR and SSIM for InverseMetricsTests, with SciPy (run with Debian's /usr/bin/python3).

SSIM as skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=1): scipy.ndimage.gaussian_filter with truncate=3.5 (an 11-tap window), local statistics, the SSIM map
cropped by 5 pixels on each side, averaged (and averaged over channels).
"""
import json
import numpy as np
from scipy.ndimage import gaussian_filter

rng = np.random.default_rng(16)
cases = []
for channels, size in [(1, 16), (3, 12), (1, 28)]:
    clean = rng.integers(0, 256, size=(channels, size, size)).astype(np.uint8)
    # A smoothed, noisy version: a realistic reconstruction error.
    noisy = np.stack([gaussian_filter(c.astype(np.float64), 0.8) for c in clean]) + rng.normal(0, 12, size=clean.shape)
    recon = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    x, y = recon / 255.0, clean / 255.0
    psnr = 10 * np.log10(1.0 / np.mean((x - y) ** 2))
    ssims = []
    for a, b in zip(x, y):
        f = lambda t: gaussian_filter(t, 1.5, truncate=3.5, mode="reflect")
        ma, mb = f(a), f(b)
        va, vb, cab = f(a * a) - ma * ma, f(b * b) - mb * mb, f(a * b) - ma * mb
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        s = (2 * ma * mb + c1) * (2 * cab + c2) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
        ssims.append(s[5:-5, 5:-5].mean())
    cases.append({"channels": channels, "size": size, "reconstruction": recon.flatten().tolist(), "clean": clean.flatten().tolist(),
                  "psnr": float(psnr), "ssim": float(np.mean(ssims))})
with open("reconstruction_metrics.json", "w") as f:
    json.dump(cases, f)
