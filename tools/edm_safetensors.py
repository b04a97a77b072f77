"""The file format `ambient import` reads and `ambient export` writes, shared by the tools in this folder.

A network snapshot as safetensors: the network's state_dict under its own names (EDMPrecond's `model.*`), float32,
and as metadata
  format          "edm-network-snapshot/1"
  network_class   the preconditioner's class, e.g. "training.networks.EDMPrecond"
  network_kwargs  JSON object: every constructor argument of the preconditioner and of its model, defaults resolved
                  from the reference code's signatures (non-finite floats as the strings "inf", "-inf", "nan")
  source          where the network came from (the reference repository, or the product's checkpoint)
Only torch and the standard library are needed; the safetensors package is used when present, else the format is
written by hand (8-byte little-endian header length, JSON header padded to 8 bytes, raw little-endian data).
"""
import inspect
import json
import math
import struct

import torch

FORMAT = "edm-network-snapshot/1"
_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
_TORCH = {v: k for k, v in _DTYPES.items()}


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def _from_json(value):
    if value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _constructor(cls):
    """The class whose __init__ declares the arguments (EDM's persistent_class wraps a class in a subclass taking
    *args, **kwargs)."""
    return cls.__bases__[0] if hasattr(cls, "_orig_class_name") else cls


def resolved_kwargs(net):
    """Every constructor argument of an EDM-style preconditioner and of its model, with defaults filled in from the
    classes' signatures (persistent classes record only what their caller passed, in init_args/init_kwargs)."""
    precond_cls, model_cls = _constructor(type(net)), _constructor(type(net.model))
    args = getattr(net, "init_args", ())
    kwargs = dict(getattr(net, "init_kwargs", {}))
    bound = inspect.signature(precond_cls.__init__).bind(net, *args, **kwargs)
    bound.apply_defaults()
    resolved = {k: v for k, v in bound.arguments.items() if k not in ("self", "model_kwargs")}
    extra = dict(bound.arguments.get("model_kwargs", {}))
    resolved.update(extra)
    # The model's own defaults for what the preconditioner did not pass (its interface arguments come from the
    # preconditioner: img_resolution, in/out channels, label_dim, and gated in the ambient code).
    for name, parameter in inspect.signature(model_cls.__init__).parameters.items():
        if name in ("self", "img_resolution", "in_channels", "out_channels", "label_dim", "gated"):
            continue
        if parameter.default is not inspect.Parameter.empty and name not in resolved:
            resolved[name] = parameter.default
    return resolved


def network_class(net):
    """The module and name of the network's class; unpickled persistent classes live in a generated module, so they
    are named after the reference's training.networks."""
    cls = type(net)
    module = "training.networks" if cls.__module__.startswith("_imported_module_") else cls.__module__
    return f"{module}.{getattr(cls, '_orig_class_name', cls.__name__)}"


def save(path, state_dict, metadata):
    """Writes tensors (contiguous, their own dtype) and string metadata as a safetensors file."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in state_dict.items()}
    try:
        from safetensors.torch import save_file
        save_file(tensors, path, metadata=metadata)
        return
    except ImportError:
        pass
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        if t.dtype not in _DTYPES:
            raise ValueError(f"{name}: dtype {t.dtype} is not supported")
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
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


def load(path):
    """(tensors, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _TORCH[info["dtype"]]
        raw = bytearray(data[begin:end])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def snapshot_metadata(net, source):
    return {"format": FORMAT, "network_class": network_class(net),
            "network_kwargs": json.dumps(_json_safe(resolved_kwargs(net)), sort_keys=True), "source": source}


def build(networks, metadata):
    """The reference network a snapshot file describes, built by `networks` (the reference's training.networks)."""
    if metadata.get("format") != FORMAT:
        raise ValueError(f"metadata 'format' is {metadata.get('format')!r}, expected {FORMAT!r}")
    class_name = metadata["network_class"].rsplit(".", 1)[-1]
    kwargs = {k: _from_json(v) for k, v in json.loads(metadata["network_kwargs"]).items()}
    if "gated" in kwargs and "gated" not in inspect.signature(_constructor(getattr(networks, class_name)).__init__).parameters:
        if kwargs.pop("gated"):
            raise ValueError("the network is gated, but these reference sources have no gated convolutions "
                             "(use giannisdaras/ambient-diffusion)")
    return getattr(networks, class_name)(**kwargs)
