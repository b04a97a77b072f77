#!/usr/bin/python3
"""Generate reference_ops.safetensors: forward/backward reference values for the
tensor binding's tests, computed with PyTorch (float32, CPU, single thread).

Run:  /usr/bin/python3 tests/AmbientDiffusion.Torch.Tests/Fixtures/make_reference_ops.py
Writes reference_ops.safetensors next to this script, then re-reads and verifies it.

Key layout per case: <case>.<input>, <case>.out, <case>.gout, <case>.grad_<input>
where grad_<input> = d/d<input> of (out * gout).sum().
Hyper-parameters for each case are in __metadata__[<case>] as compact JSON.
The safetensors writer/reader are implemented here (the `safetensors` package is
not required).
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "reference_ops.safetensors")
SCRIPT_NAME = "make_reference_ops.py"


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=False)


# --------------------------------------------------------------------------
# minimal safetensors writer / reader (F32 only is all we need, but generic)
# --------------------------------------------------------------------------
_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64",
           np.dtype("int64"): "I64", np.dtype("int32"): "I32",
           np.dtype("uint8"): "U8"}
_NP_DTYPES = {v: k for k, v in _DTYPES.items()}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, np.ndarray) in the desired order."""
    header = {}
    blobs = []
    offset = 0
    for name, arr in tensors:
        arr = np.array(arr, order="C", copy=True)  # NB: np.ascontiguousarray would turn 0-d into [1]
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": _DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to 8"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    body = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    out = {}
    expected_begin = 0
    for name, info in header.items():  # json preserves file order
        b, e = info["data_offsets"]
        assert b == expected_begin, f"{name}: gap/overlap at {b}"
        dt = _NP_DTYPES[info["dtype"]].newbyteorder("<")
        arr = np.frombuffer(body[b:e], dtype=dt).reshape(info["shape"])
        assert arr.nbytes == e - b
        out[name] = arr.astype(dt.newbyteorder("="))
        expected_begin = e
    assert expected_begin == len(body), "trailing bytes after last tensor"
    return out, metadata


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------
def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=torch.float32) * scale


def run_case(name, inputs, fn, params):
    """inputs: list of (input_name, tensor). fn(**tensors) -> output."""
    leaves = [(n, t.detach().clone().requires_grad_(True)) for n, t in inputs]
    out = fn(**dict(leaves))
    gout = torch.randn(out.shape, dtype=torch.float32)
    (out * gout).sum().backward()
    rows = [(f"{name}.{n}", t.detach()) for n, t in leaves]
    rows.append((f"{name}.out", out.detach()))
    rows.append((f"{name}.gout", gout))
    for n, t in leaves:
        rows.append((f"{name}.grad_{n}", t.grad.detach()))
    return rows, compact(params)


def build():
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    cases = []  # list of (rows, meta_key, meta_json)

    def add(name, inputs, fn, params):
        rows, meta = run_case(name, inputs, fn, params)
        cases.append((rows, name, meta))

    # conv2d_basic
    p = {"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1}
    add("conv2d_basic",
        [("x", randn(2, 3, 8, 8)), ("weight", randn(4, 3, 3, 3, scale=0.2)), ("bias", randn(4, scale=0.2))],
        lambda x, weight, bias, p=p: F.conv2d(x, weight, bias, stride=p["stride"], padding=p["padding"],
                                              dilation=p["dilation"], groups=p["groups"]), p)

    # conv2d_stride2
    p = {"stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "groups": 1}
    add("conv2d_stride2",
        [("x", randn(2, 3, 9, 9)), ("weight", randn(5, 3, 3, 3, scale=0.2)), ("bias", randn(5, scale=0.2))],
        lambda x, weight, bias, p=p: F.conv2d(x, weight, bias, stride=p["stride"], padding=p["padding"],
                                              dilation=p["dilation"], groups=p["groups"]), p)

    # conv2d_groups
    p = {"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 2}
    add("conv2d_groups",
        [("x", randn(2, 4, 6, 6)), ("weight", randn(6, 2, 3, 3, scale=0.2)), ("bias", randn(6, scale=0.2))],
        lambda x, weight, bias, p=p: F.conv2d(x, weight, bias, stride=p["stride"], padding=p["padding"],
                                              dilation=p["dilation"], groups=p["groups"]), p)

    # conv_transpose2d  (weight layout: [in_channels, out_channels/groups, kH, kW])
    p = {"stride": [2, 2], "padding": [1, 1], "output_padding": [0, 0], "dilation": [1, 1], "groups": 1}
    add("conv_transpose2d",
        [("x", randn(2, 4, 5, 5)), ("weight", randn(4, 3, 4, 4, scale=0.2)), ("bias", randn(3, scale=0.2))],
        lambda x, weight, bias, p=p: F.conv_transpose2d(x, weight, bias, stride=p["stride"], padding=p["padding"],
                                                        output_padding=p["output_padding"], groups=p["groups"],
                                                        dilation=p["dilation"]), p)

    # group_norm (affine params perturbed around 1/0 so they matter)
    p = {"num_groups": 4, "eps": 1e-6}
    add("group_norm",
        [("x", randn(2, 8, 4, 4)), ("weight", 1.0 + randn(8, scale=0.2)), ("bias", randn(8, scale=0.2))],
        lambda x, weight, bias, p=p: F.group_norm(x, p["num_groups"], weight, bias, p["eps"]), p)

    # layer_norm
    p = {"normalized_shape": [6], "eps": 1e-5}
    add("layer_norm",
        [("x", randn(2, 5, 6)), ("weight", 1.0 + randn(6, scale=0.2)), ("bias", randn(6, scale=0.2))],
        lambda x, weight, bias, p=p: F.layer_norm(x, p["normalized_shape"], weight, bias, p["eps"]), p)

    # linear: out = x @ weight^T + bias
    add("linear",
        [("x", randn(3, 5)), ("weight", randn(4, 5, scale=0.2)), ("bias", randn(4, scale=0.2))],
        lambda x, weight, bias: F.linear(x, weight, bias), {"formula": "x @ weight^T + bias"})

    # attention
    d = 6
    p = {"dim": d, "softmax_dim": -1, "formula": "softmax((q @ k^T) / sqrt(dim), dim=-1) @ v"}
    add("attention",
        [("q", randn(2, 4, d)), ("k", randn(2, 4, d)), ("v", randn(2, 4, d))],
        lambda q, k, v: torch.softmax(torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d), dim=-1) @ v, p)

    # softmax
    add("softmax", [("x", randn(3, 7))], lambda x: torch.softmax(x, dim=-1), {"dim": -1})

    # pointwise activations
    add("silu", [("x", randn(2, 3, 4, 4))], lambda x: F.silu(x), {})
    add("gelu", [("x", randn(2, 3, 4, 4))], lambda x: F.gelu(x, approximate="none"), {"approximate": "none"})
    add("sigmoid", [("x", randn(2, 3, 4, 4))], lambda x: torch.sigmoid(x), {})

    # avg_pool2d
    p = {"kernel_size": [2, 2], "stride": [2, 2], "padding": [0, 0], "ceil_mode": False,
         "count_include_pad": True}
    add("avg_pool2d", [("x", randn(2, 3, 8, 8))],
        lambda x, p=p: F.avg_pool2d(x, p["kernel_size"], p["stride"], p["padding"],
                                    ceil_mode=p["ceil_mode"], count_include_pad=p["count_include_pad"]), p)

    # upsample nearest
    p = {"size": [8, 8], "mode": "nearest"}
    add("upsample_nearest2d", [("x", randn(2, 3, 4, 4))],
        lambda x, p=p: F.interpolate(x, size=p["size"], mode="nearest"), p)

    # mse (0-d output, 0-d gout)
    add("mse", [("a", randn(2, 3, 4)), ("b", randn(2, 3, 4))],
        lambda a, b: F.mse_loss(a, b, reduction="mean"), {"reduction": "mean"})

    # batched matmul
    add("matmul", [("a", randn(2, 3, 4)), ("b", randn(2, 4, 5))], lambda a, b: torch.matmul(a, b), {})

    return cases


def main():
    cases = build()
    tensors = []
    metadata = {"generator": f"torch {torch.__version__} (CPU, float32, manual_seed 1234, "
                             f"1 thread) via {SCRIPT_NAME}"}
    for rows, key, meta in cases:
        for n, t in rows:
            assert t.dtype == torch.float32
            tensors.append((n, t.contiguous().numpy()))
        metadata[key] = meta
    names = [n for n, _ in tensors]
    assert len(names) == len(set(names))

    write_safetensors(OUT_PATH, tensors, metadata)

    # verify round trip (bitwise)
    back, meta_back = read_safetensors(OUT_PATH)
    assert list(back.keys()) == names, "key order mismatch"
    for n, arr in tensors:
        got = back[n]
        assert got.shape == arr.shape and got.dtype == arr.dtype, n
        assert np.array_equal(got.view(np.uint32), arr.view(np.uint32)), n
    assert meta_back == metadata

    # sanity: gradients really correspond to (out*gout).sum(); spot-check linear analytically
    x, w, go = back["linear.x"], back["linear.weight"], back["linear.gout"]
    assert np.allclose(back["linear.grad_x"], go @ w, atol=1e-5)
    assert np.allclose(back["linear.grad_weight"], go.T @ x, atol=1e-5)
    assert np.allclose(back["linear.grad_bias"], go.sum(0), atol=1e-5)

    size = os.path.getsize(OUT_PATH)
    print(f"wrote {OUT_PATH}: {len(names)} tensors, {size} bytes")
    for n, arr in tensors:
        print(f"  {n} {list(arr.shape)}")
    for k, v in metadata.items():
        print(f"  meta {k} = {v}")


if __name__ == "__main__":
    main()
