"""Reference for GaussianFit: EM for a Gaussian from observations with missing values and per-row noise, in NumPy.

Writes gaussian_em_reference.json: the observations (removed values 0), masks, noise levels, and the mean and
covariance after `iterations` EM iterations, full and diagonal. Same algorithm as src/AmbientDiffusion/Em/GaussianFit.cs,
written the textbook way (explicit per-row posterior covariance), so the C# accumulation trick is checked against it.
Run: /usr/bin/python3 make_gaussian_em_reference.py
"""
import json
import numpy as np

JITTER = 1e-4
rng = np.random.default_rng(23)
n, d, iterations = 40, 6, 5
a = rng.normal(size=(d, d)) * 0.3
true_cov = a @ a.T + 0.05 * np.eye(d)
true_mean = rng.uniform(-0.5, 0.5, size=d)
x = rng.multivariate_normal(true_mean, true_cov, size=n)
observed = (rng.uniform(size=(n, d)) < 0.6).astype(np.uint8)
observed[0, :] = 1  # one complete row
observed[1, :] = 0  # one row with nothing observed
sigma = np.where(np.arange(n) % 2 == 0, 0.0, 0.1)
y = (x + sigma[:, None] * rng.normal(size=(n, d))) * observed


def start(full):
    mean = np.zeros(d)
    var = np.zeros(d)
    for k in range(d):
        o = observed[:, k] == 1
        if o.any():
            mean[k] = y[o, k].mean()
            var[k] = max(0.0, (y[o, k] ** 2).mean() - mean[k] ** 2)
    return mean, np.diag(var)


def step(mean, cov, full):
    xs, second = [], np.zeros((d, d))
    if not full:
        cov = np.diag(np.diag(cov))
    for i in range(n):
        o = np.flatnonzero(observed[i])
        if len(o) == 0:
            xhat, c = mean.copy(), cov.copy()
        else:
            k = cov[np.ix_(o, o)] + (sigma[i] ** 2 + JITTER) * np.eye(len(o))
            gain = cov[:, o] @ np.linalg.inv(k)
            xhat = mean + gain @ (y[i, o] - mean[o])
            c = cov - gain @ cov[o, :]
        if not full:
            c = np.diag(np.diag(c))
        xs.append(xhat)
        second += np.outer(xhat, xhat) + c
    xs = np.array(xs)
    new_mean = xs.mean(0)
    new_cov = second / n - np.outer(new_mean, new_mean)
    new_cov = (new_cov + new_cov.T) / 2
    if not full:
        new_cov = np.diag(np.maximum(np.diag(new_cov), 0))
    return new_mean, new_cov


result = {"n": n, "d": d, "iterations": iterations, "values": y.ravel().tolist(), "observed": observed.ravel().tolist(), "noise_sigma": sigma.tolist()}
for full in (True, False):
    mean, cov = start(full)
    for _ in range(iterations):
        mean, cov = step(mean, cov, full)
    key = "full" if full else "diagonal"
    result[key + "_mean"] = mean.tolist()
    result[key + "_covariance"] = cov.ravel().tolist()
with open("gaussian_em_reference.json", "w") as f:
    json.dump(result, f)
