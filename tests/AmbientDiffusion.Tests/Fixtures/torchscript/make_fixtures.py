#!/usr/bin/env python3
"""Small random-weight TorchScript modules with the call signatures of the real feature networks, and the features
PyTorch computes for fixed images with each preset's reference preprocessing, for TorchScriptFeatureTests and
ScriptModuleTests. Run with Debian's PyTorch:

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/AmbientDiffusion.Tests/Fixtures/torchscript/make_fixtures.py

Modules (torch.jit.script, saved with torch.jit.save):
  inception_like.pt   forward(img: uint8 [N,3,H,W], return_features: bool=False): resizes to 32x32 internally like
                      EDM/StyleGAN3's inception-2015-12-05.pt (which resizes to 299), 64-d features or 10 logits
  dinov2_like.pt      DINOv2 layout: 14x14 patches (H, W must be multiples of 14), CLS token, final LayerNorm; returns
                      the 32-d CLS features as dinov2's forward does
  sscd_like.pt        SSCD layout: conv trunk, GeM pooling, projection, L2-normalised 16-d descriptor
  plain_features.pt   a plain float CNN (for torchscript:FILE with explicit options), 12-d
  wrong_signature.pt  forward(x) only: rejects return_features
  tuple_output.pt     forward(x) -> (2x, x)
  list_output.pt      forward(x) -> [x + 1]
  string_output.pt    forward(x) -> str
  not_torchscript.pt  a zip that is not a TorchScript archive; corrupt.pt: inception_like.pt truncated
expected.safetensors: images (uint8 [4,3,20,24]) and the features of each preset.
"""
import json
import os
import struct
import zipfile
from typing import List, Tuple

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class InceptionLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, stride=2)
        self.conv2 = torch.nn.Conv2d(8, 64, 3, stride=2)
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, img: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = img.to(torch.float32)
        x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
        x = (x - 128) / 128
        x = F.relu(self.conv1(x))
        features = F.relu(self.conv2(x)).mean(dim=[2, 3])
        if return_features:
            return features
        return self.fc(features)


class Dinov2Like(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = torch.nn.Conv2d(3, 32, 14, stride=14)
        self.cls_token = torch.nn.Parameter(torch.randn(1, 1, 32) * 0.5)
        self.attn = torch.nn.MultiheadAttention(32, 4, batch_first=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 32))
        self.norm1 = torch.nn.LayerNorm(32)
        self.norm2 = torch.nn.LayerNorm(32)
        self.norm = torch.nn.LayerNorm(32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] % 14 != 0 or x.shape[3] % 14 != 0:
            raise RuntimeError("input height and width must be multiples of the patch size 14")
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        h = self.norm1(tokens)
        tokens = tokens + self.attn(h, h, h, need_weights=False)[0]
        tokens = tokens + self.mlp(self.norm2(tokens))
        return self.norm(tokens)[:, 0]


class SscdLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 5, stride=4)
        self.conv2 = torch.nn.Conv2d(8, 24, 3, stride=2)
        self.project = torch.nn.Linear(24, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        pooled = x.clamp(min=1e-6).pow(3.0).mean(dim=[2, 3]).pow(1.0 / 3.0)  # GeM, p = 3
        return F.normalize(self.project(pooled), dim=1)


class PlainFeatures(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 12, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x)).mean(dim=[2, 3])


class WrongSignature(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.float32).flatten(1)


class TupleOutput(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x * 2, x


class ListOutput(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [x + 1]


class StringOutput(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> str:
        return "not a tensor"


def reflect_pad_to(x, multiple):
    """The ambient-diffusion authors' pad_image: reflect padding, split evenly (the extra pixel at the end)."""
    ph = (multiple - x.shape[2] % multiple) % multiple
    pw = (multiple - x.shape[3] % multiple) % multiple
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="reflect")


def normalize(x, mean, std):
    return (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)


def resize_uint8(images, h, w):
    """torchvision's Resize on uint8 tensors (PyTorch 1.13): bilinear with antialias in float, rounded back to uint8."""
    x = F.interpolate(images.to(torch.float32), size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    return x.round().clamp(0, 255)


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        dtype = {torch.float32: "F32", torch.uint8: "U8"}[t.dtype]
        data = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"script": "make_fixtures.py", "torch": torch.__version__}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def save(module, name):
    scripted = torch.jit.script(module.eval())
    path = os.path.join(HERE, name)
    torch.jit.save(scripted, path)
    return torch.jit.load(path).eval()


def main():
    torch.manual_seed(7)
    torch.set_num_threads(1)
    inception = save(InceptionLike(), "inception_like.pt")
    dinov2 = save(Dinov2Like(), "dinov2_like.pt")
    sscd = save(SscdLike(), "sscd_like.pt")
    plain = save(PlainFeatures(), "plain_features.pt")
    for module, name in ((WrongSignature(), "wrong_signature.pt"), (TupleOutput(), "tuple_output.pt"),
                         (ListOutput(), "list_output.pt"), (StringOutput(), "string_output.pt")):
        save(module, name)
    with open(os.path.join(HERE, "inception_like.pt"), "rb") as f:
        data = f.read()
    with open(os.path.join(HERE, "corrupt.pt"), "wb") as f:
        f.write(data[: len(data) // 3])
    with zipfile.ZipFile(os.path.join(HERE, "not_torchscript.pt"), "w") as z:
        z.writestr("archive/data.txt", "a zip archive without TorchScript code")

    images = torch.randint(0, 256, (4, 3, 20, 24), dtype=torch.uint8)
    out = {"images": images}
    with torch.no_grad():
        # inception: uint8 in, return_features=True, not normalised (EDM fid.py / StyleGAN3 metric_utils).
        out["inception"] = inception(images, return_features=True)
        # dinov2: [0, 1], reflect-padded to a multiple of 14 (ambient-diffusion's pad_image), CLS, L2-normalised.
        x = images.to(torch.float32) / 255
        out["dinov2"] = F.normalize(dinov2(reflect_pad_to(x, 14)), dim=1)
        out["dinov2_imagenet"] = F.normalize(dinov2(reflect_pad_to(normalize(x, IMAGENET_MEAN, IMAGENET_STD), 14)), dim=1)
        # sscd: Resize(288) on the short edge (20x24 -> 288x345), ToTensor, ImageNet normalisation; L2-normalised.
        resized = resize_uint8(images, 288, int(288 * 24 / 20)) / 255
        out["sscd"] = F.normalize(sscd(normalize(resized, IMAGENET_MEAN, IMAGENET_STD)), dim=1)
        # torchscript:FILE with explicit options: [-1, 1], resize to 30x30 (antialias), mean/std, pad to 8, no L2.
        y = resize_uint8(images, 30, 30) / 127.5 - 1
        y = normalize(y, [0.1, -0.2, 0.0], [0.5, 0.8, 1.2])
        out["custom"] = plain(reflect_pad_to(y, 8))
    save_safetensors(os.path.join(HERE, "expected.safetensors"), out)
    for name in sorted(os.listdir(HERE)):
        print(f"{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")


if __name__ == "__main__":
    main()
