"""Readers of the artifacts a run writes, shared by the study-table scripts in docs/tools.

Each function reads one file the CLI documents: report/report.json (copy statistics per feature space and image set),
report/evaluation/<space>/metrics.json (quality with floors), report/quality.json (the generalization-gap pair),
report/membership.json (the attacks), metrics.jsonl (training ticks) and a checkpoint's safetensors metadata.
"""
import json
import os
import statistics
import struct


def load(path):
    with open(path) as f:
        return json.load(f)


def space(report, name):
    """One feature space of report.json, or None when the report has none of that name."""
    return next((s for s in report["spaces"] if s["name"] == name), None)


def subset(sp, role):
    """One image set of a space ('samples', 'heldout_train', ...), or None."""
    return next((s for s in sp["sets"] if s["set"] == role), None) if sp else None


def median(stat):
    return next(p["value"] for p in stat["percentiles"] if p["q"] == 50)


def copies(run, space_name="pixels", role="samples"):
    """The copy statistics of a run's samples (flagged share, d1 < 0.05, intervals) in one feature space."""
    return subset(space(load(os.path.join(run, "report", "report.json")), space_name), role)


def quality(run, space_name="classifier"):
    """FD, precision, recall, ... with their floors, in one evaluation space."""
    return load(os.path.join(run, "report", "evaluation", space_name, "metrics.json"))


def generalization_gap(run):
    """report/quality.json: pixel FD of the samples to held-out images (fd_samples) and to training images (fd_samples_train)."""
    return load(os.path.join(run, "report", "quality.json"))


def attacks(run):
    """The membership attacks by name (loss, loss_observed, pia); {} when the run was not attacked."""
    for rel in ("membership.json", os.path.join("membership", "membership.json")):
        path = os.path.join(run, "report", rel)
        if os.path.exists(path):
            return {a["name"]: a for a in load(path)["attacks"]}
    return {}


def training_seconds(run, upto_kimg=None):
    """Seconds the run's training ticks took (metrics.jsonl), optionally only those up to upto_kimg."""
    total = 0.0
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            tick = json.loads(line)
            if "seconds_per_tick" in tick and (upto_kimg is None or tick["kimg"] <= upto_kimg + 1e-6):
                total += tick["seconds_per_tick"]
    return total


def checkpoint_metadata(path):
    """The string metadata a safetensors checkpoint carries in its header (step, images_seen, config, ...)."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(size)).get("__metadata__", {})


def checkpoint_kimg(path):
    return int(checkpoint_metadata(path)["images_seen"]) / 1000


def mean_sd(xs, digits):
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}" if len(xs) > 1 else f"{xs[0]:.{digits}f}"


def with_interval(value, iv, digits=3):
    return f"{value:.{digits}f}" + (f" [{iv['lo']:.{digits}f}, {iv['hi']:.{digits}f}]" if iv else "")
