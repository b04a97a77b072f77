#!/usr/bin/env python3
"""PyTorch reference for the AmbientDiffusion network and loss (spec: SPEC.md in this folder).

* ``DdpmppUNet``  -- EDM's DDPM++ U-Net (positional noise embedding, standard encoder/decoder,
                     resample filter [1,1]) with extra mask input channels and optional gated
                     convolutions ``conv(x, W) * sigmoid(conv(x, G)) + b`` (sigmoid applied once).
* ``EDMPrecond``  -- EDM preconditioning (c_skip, c_out, c_in, c_noise = ln(sigma)/4, sigma_data 0.5);
                     the mask channels are concatenated AFTER the c_in scaling (they are not scaled).
* ``ambient_loss`` -- the ambient objective of ambient-spec.md section 2 (unreduced per-pixel terms)
                     and ``reduce_loss`` (sum over pixels, mean over the batch).

Written from the spec for this project; attribute registration order == named_parameters() order.
Pure torch (tested with Debian's torch 1.13, CPU).  Run this file to print parameter counts and to
run the self-checks:   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/ambient/ambient_unet.py
"""
import argparse
import json
import math
from dataclasses import dataclass, field, asdict
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------
@dataclass
class UNetConfig:
    img_resolution: int = 64
    in_channels: int = 3            # image channels C
    mask_channels: int = 1          # extra input channels holding the mask (1 = shared, C = per channel, 0 = none)
    out_channels: Optional[int] = None   # defaults to in_channels
    model_channels: int = 128
    channel_mult: List[int] = field(default_factory=lambda: [1, 2, 2, 2])
    channel_mult_emb: int = 4
    channel_mult_noise: int = 1
    num_blocks: int = 4
    attn_resolutions: List[int] = field(default_factory=lambda: [16])
    dropout: float = 0.10
    gated: bool = False
    num_heads: int = 1              # DDPM++ (SongUNet) always uses one attention head
    adaptive_scale: bool = False    # DDPM++ uses the additive embedding (False); True = scale/shift (ADM style)
    eps: float = 1e-6
    max_positions: int = 10000

    def out_ch(self) -> int:
        return self.in_channels if self.out_channels is None else self.out_channels


def celeba64_config(gated: bool = False) -> UNetConfig:
    """CelebA-HQ / AFHQ 64x64 paper setting (3 image channels, 1 shared mask channel)."""
    return UNetConfig(img_resolution=64, in_channels=3, mask_channels=1, model_channels=128,
                      channel_mult=[1, 2, 2, 2], num_blocks=4, attn_resolutions=[16], dropout=0.10,
                      gated=gated)


def small_config(gated: bool = False) -> UNetConfig:
    """Small CPU benchmark setting: 32x32, 1 image channel, 1 mask channel."""
    return UNetConfig(img_resolution=32, in_channels=1, mask_channels=1, model_channels=32,
                      channel_mult=[1, 2, 2], num_blocks=1, attn_resolutions=[16], dropout=0.10,
                      gated=gated)


# --------------------------------------------------------------------------------------------
# Initialisation (EDM style): xavier_uniform scaled by init_weight; biases = init_bias * (...) = 0
# --------------------------------------------------------------------------------------------
def xavier_uniform_(t: torch.Tensor, fan_in: int, fan_out: int, gain: float) -> torch.Tensor:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        t.uniform_(-1.0, 1.0).mul_(bound * gain)
    return t


INIT = 1.0                      # conv0, skip, affine, enc conv, map layers
INIT_ZERO = 1e-5                # conv1, proj, aux_conv ("zero" init: a tiny xavier, not exactly 0)
INIT_ATTN = math.sqrt(0.2)      # qkv


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------
class Linear(nn.Module):
    def __init__(self, cin: int, cout: int, init_weight: float = INIT):
        super().__init__()
        self.weight = nn.Parameter(xavier_uniform_(torch.empty(cout, cin), cin, cout, init_weight))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Conv2d(nn.Module):
    """k x k convolution (padding k//2) with optional 2x resampling BEFORE the convolution and an
    optional gate.  Parameters (in this order): weight [out,in,k,k], bias [out], gate_weight [out,in,k,k].

    resample filter [1,1]:  down = 2x2 average pooling (stride 2);  up = nearest-neighbour 2x.
    gated: y = conv(x, W) * sigmoid(conv(x, G)) + b   (one sigmoid)."""

    def __init__(self, cin: int, cout: int, kernel: int, up: bool = False, down: bool = False,
                 gated: bool = False, init_weight: float = INIT):
        super().__init__()
        assert not (up and down)
        assert kernel in (1, 3)
        self.cin, self.cout, self.kernel = cin, cout, kernel
        self.up, self.down, self.gated = up, down, gated
        fan_in, fan_out = cin * kernel * kernel, cout * kernel * kernel
        self.weight = nn.Parameter(xavier_uniform_(torch.empty(cout, cin, kernel, kernel), fan_in, fan_out, init_weight))
        self.bias = nn.Parameter(torch.zeros(cout))
        if gated:
            self.gate_weight = nn.Parameter(xavier_uniform_(torch.empty(cout, cin, kernel, kernel), fan_in, fan_out, init_weight))
        else:
            self.register_parameter("gate_weight", None)

    def forward(self, x):
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        elif self.down:
            x = F.avg_pool2d(x, 2)
        pad = self.kernel // 2
        if self.gated:
            y = F.conv2d(x, self.weight, None, padding=pad)
            g = torch.sigmoid(F.conv2d(x, self.gate_weight, None, padding=pad))
            return torch.addcmul(self.bias.view(1, -1, 1, 1), y, g)
        return F.conv2d(x, self.weight, self.bias, padding=pad)


class GroupNorm(nn.GroupNorm):
    """Normalises in float32, as the C# model does: under CPU bf16 autocast the input arrives in bf16, and libtorch
    1.13's CPU bf16 group_norm is several times slower than float32 (CUDA autocast runs group_norm in float32 by
    itself). A no-op in float32."""

    def forward(self, x):
        return F.group_norm(x.to(self.weight.dtype), self.num_groups, self.weight, self.bias, self.eps)


def group_norm(channels: int, eps: float) -> nn.GroupNorm:
    return GroupNorm(num_groups=min(32, channels // 4), num_channels=channels, eps=eps)


class UNetBlock(nn.Module):
    """Residual block: norm0 conv0 affine norm1 conv1 [skip] [norm2 qkv proj]."""

    def __init__(self, cin: int, cout: int, emb_ch: int, cfg: UNetConfig, up: bool = False,
                 down: bool = False, attention: bool = False):
        super().__init__()
        self.in_channels, self.out_channels = cin, cout
        self.dropout = cfg.dropout
        self.adaptive_scale = cfg.adaptive_scale
        self.skip_scale = math.sqrt(0.5)
        self.num_heads = cfg.num_heads if attention else 0
        g = cfg.gated
        self.norm0 = group_norm(cin, cfg.eps)
        self.conv0 = Conv2d(cin, cout, 3, up=up, down=down, gated=g, init_weight=INIT)
        self.affine = Linear(emb_ch, cout * (2 if cfg.adaptive_scale else 1), init_weight=INIT)
        self.norm1 = group_norm(cout, cfg.eps)
        self.conv1 = Conv2d(cout, cout, 3, gated=g, init_weight=INIT_ZERO)
        self.skip = None
        if cout != cin or up or down:
            self.skip = Conv2d(cin, cout, 1, up=up, down=down, gated=g, init_weight=INIT)
        if self.num_heads:
            assert cout % self.num_heads == 0
            self.norm2 = group_norm(cout, cfg.eps)
            self.qkv = Conv2d(cout, cout * 3, 1, gated=g, init_weight=INIT_ATTN)
            self.proj = Conv2d(cout, cout, 1, gated=g, init_weight=INIT_ZERO)

    def forward(self, x, emb):
        orig = x
        x = self.conv0(F.silu(self.norm0(x)))
        params = self.affine(emb)[:, :, None, None]
        if self.adaptive_scale:
            scale, shift = params.chunk(2, dim=1)
            x = F.silu(torch.addcmul(shift, self.norm1(x), scale + 1))
        else:
            x = F.silu(self.norm1(x + params))
        x = self.conv1(F.dropout(x, p=self.dropout, training=self.training))
        x = (x + (self.skip(orig) if self.skip is not None else orig)) * self.skip_scale
        if self.num_heads:
            n, c, h, w = x.shape
            hd = self.num_heads
            # qkv channel index = (head * (c/hd) + ch) * 3 + {0:q, 1:k, 2:v}
            qkv = self.qkv(self.norm2(x)).reshape(n * hd, c // hd, 3, h * w)
            q, k, v = qkv.unbind(2)                                   # each [n*hd, c/hd, hw]
            k = k / math.sqrt(c // hd)
            att = torch.bmm(q.transpose(1, 2), k).float().softmax(dim=2).to(v.dtype)  # [n*hd, hw(q), hw(k)], softmax in fp32
            a = torch.bmm(v, att.transpose(1, 2))                     # [n*hd, c/hd, hw(q)]
            x = (self.proj(a.reshape(n, c, h, w)) + x) * self.skip_scale
        return x


class PositionalEmbedding(nn.Module):
    """[sin(x f_j), cos(x f_j)], f_j = (1/max_positions)^(j/(half-1)), j = 0..half-1 (endpoint=True)."""

    def __init__(self, num_channels: int, max_positions: int = 10000):
        super().__init__()
        self.num_channels, self.max_positions = num_channels, max_positions

    def forward(self, x):
        half = self.num_channels // 2
        freqs = torch.arange(half, dtype=torch.float32, device=x.device) / (half - 1)
        freqs = (1.0 / self.max_positions) ** freqs
        x = torch.outer(x.to(torch.float32), freqs)
        return torch.cat([x.sin(), x.cos()], dim=1)


# --------------------------------------------------------------------------------------------
# DDPM++ U-Net
# --------------------------------------------------------------------------------------------
class DdpmppUNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        mc = cfg.model_channels
        emb_ch = mc * cfg.channel_mult_emb
        noise_ch = mc * cfg.channel_mult_noise
        self.map_noise = PositionalEmbedding(noise_ch, cfg.max_positions)
        self.map_layer0 = Linear(noise_ch, emb_ch)
        self.map_layer1 = Linear(emb_ch, emb_ch)

        # Encoder
        self.enc = nn.ModuleDict()
        cout = cfg.in_channels + cfg.mask_channels
        skips = []
        for level, mult in enumerate(cfg.channel_mult):
            res = cfg.img_resolution >> level
            if level == 0:
                cin, cout = cout, mc
                self.enc[f"{res}x{res}_conv"] = Conv2d(cin, cout, 3, gated=cfg.gated, init_weight=INIT)
            else:
                self.enc[f"{res}x{res}_down"] = UNetBlock(cout, cout, emb_ch, cfg, down=True)
            skips.append(cout)
            for idx in range(cfg.num_blocks):
                cin, cout = cout, mc * mult
                self.enc[f"{res}x{res}_block{idx}"] = UNetBlock(cin, cout, emb_ch, cfg,
                                                                attention=res in cfg.attn_resolutions)
                skips.append(cout)

        # Decoder
        self.dec = nn.ModuleDict()
        self._concat = set()        # decoder entries that take cat([x, skip]) as input
        last = len(cfg.channel_mult) - 1
        for level in range(last, -1, -1):
            mult = cfg.channel_mult[level]
            res = cfg.img_resolution >> level
            if level == last:
                self.dec[f"{res}x{res}_in0"] = UNetBlock(cout, cout, emb_ch, cfg, attention=True)
                self.dec[f"{res}x{res}_in1"] = UNetBlock(cout, cout, emb_ch, cfg)
            else:
                self.dec[f"{res}x{res}_up"] = UNetBlock(cout, cout, emb_ch, cfg, up=True)
            for idx in range(cfg.num_blocks + 1):
                cin, cout = cout + skips.pop(), mc * mult
                name = f"{res}x{res}_block{idx}"
                self.dec[name] = UNetBlock(cin, cout, emb_ch, cfg,
                                           attention=(idx == cfg.num_blocks and res in cfg.attn_resolutions))
                self._concat.add(name)
            if level == 0:
                self.dec[f"{res}x{res}_aux_norm"] = group_norm(cout, cfg.eps)
                self.dec[f"{res}x{res}_aux_conv"] = Conv2d(cout, cfg.out_ch(), 3, gated=cfg.gated,
                                                           init_weight=INIT_ZERO)
        assert not skips

    def forward(self, x, noise_labels):
        emb = self.map_noise(noise_labels)
        emb = F.silu(self.map_layer0(emb))
        emb = F.silu(self.map_layer1(emb))
        skips = []
        for block in self.enc.values():
            x = block(x, emb) if isinstance(block, UNetBlock) else block(x)
            skips.append(x)
        out = None
        for name, block in self.dec.items():
            if name.endswith("_aux_norm"):
                out = block(x)
            elif name.endswith("_aux_conv"):
                out = block(F.silu(out))
            else:
                if name in self._concat:
                    x = torch.cat([x, skips.pop()], dim=1)
                x = block(x, emb)
        return out


# --------------------------------------------------------------------------------------------
# EDM preconditioning + ambient loss
# --------------------------------------------------------------------------------------------
class EDMPrecond(nn.Module):
    """D(x, sigma, mask) = c_skip x + c_out F([c_in x, mask], ln(sigma)/4)."""

    def __init__(self, cfg: UNetConfig, sigma_data: float = 0.5):
        super().__init__()
        self.cfg = cfg
        self.sigma_data = sigma_data
        self.model = DdpmppUNet(cfg)

    def forward(self, x, sigma, mask=None):
        x = x.to(torch.float32)
        sigma = sigma.to(torch.float32).reshape(-1, 1, 1, 1)
        sd = self.sigma_data
        c_skip = sd ** 2 / (sigma ** 2 + sd ** 2)
        c_out = sigma * sd / (sigma ** 2 + sd ** 2).sqrt()
        c_in = 1 / (sd ** 2 + sigma ** 2).sqrt()
        c_noise = sigma.log() / 4
        inp = c_in * x
        if self.cfg.mask_channels:
            assert mask is not None and mask.shape[1] == self.cfg.mask_channels
            inp = torch.cat([inp, mask.to(inp.dtype)], dim=1)
        F_x = self.model(inp, c_noise.flatten())
        return c_skip * x + c_out * F_x


def ambient_loss(net: EDMPrecond, y, A, delta: float = 0.1, P_mean: float = -1.2, P_std: float = 1.2,
                 B=None, generator=None):
    """Unreduced per-pixel ambient loss  lambda(sigma) * (A * (D - y))^2,  shape [N, C, H, W].

    y: corrupted images [N,C,H,W] (masked pixels 0); A: masks [N,Cm,H,W] (Cm = 1 shared or C).
    B: further corruption (same shape as A); drawn ~ Bernoulli(1 - delta) when None (redrawn per step).
    Draw order when generator RNG is used: sigma normals [N], B uniforms [like A], noise normals [like y]."""
    n_img = y.shape[0]
    sd = net.sigma_data
    rnd = torch.randn([n_img, 1, 1, 1], generator=generator, device=y.device)
    sigma = (rnd * P_std + P_mean).exp()
    weight = (sigma ** 2 + sd ** 2) / (sigma * sd) ** 2
    if B is None:
        B = (torch.rand(A.shape, generator=generator, device=y.device) < (1.0 - delta)).to(y.dtype)
    A_t = A * B
    n = torch.randn(y.shape, generator=generator, device=y.device) * sigma
    x_in = A_t * (y + n)
    D = net(x_in, sigma, A_t)
    return weight * (A * (D - y)) ** 2


def reduce_loss(per_pixel):
    """Official default reduction: sum over pixels (C,H,W), mean over the batch."""
    return per_pixel.sum() / per_pixel.shape[0]


def count_params(m: nn.Module) -> int:
    return int(sum(p.numel() for p in m.parameters()))


# --------------------------------------------------------------------------------------------
# Self-checks
# --------------------------------------------------------------------------------------------
def _check_resample():
    """avg_pool2d / nearest == EDM's depthwise filter conv with f = outer([1,1],[1,1])/4."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8, 8)
    f = torch.full((5, 1, 2, 2), 0.25)
    down_f = F.conv2d(x, f, groups=5, stride=2)
    up_f = F.conv_transpose2d(x, f * 4, groups=5, stride=2)
    return {
        "down_max_abs_diff": float((down_f - F.avg_pool2d(x, 2)).abs().max()),
        "up_max_abs_diff": float((up_f - F.interpolate(x, scale_factor=2.0, mode="nearest")).abs().max()),
    }


def _check_forward(cfg: UNetConfig):
    torch.manual_seed(0)
    net = EDMPrecond(cfg).eval()
    n, r = 2, cfg.img_resolution
    y = torch.randn(n, cfg.in_channels, r, r)
    m = (torch.rand(n, cfg.mask_channels, r, r) > 0.5).float()
    with torch.no_grad():
        d = net(y * m, torch.tensor([0.3, 5.0]), m)
    assert d.shape == (n, cfg.out_ch(), r, r)
    return list(d.shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list-params", action="store_true", help="print named_parameters() of the small config")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {"resample_equivalence": _check_resample(), "param_counts": {}}
    for name, mk in (("small", small_config), ("celeba64", celeba64_config)):
        for gated in (False, True):
            cfg = mk(gated)
            out["param_counts"][f"{name}_{'gated' if gated else 'ungated'}"] = count_params(DdpmppUNet(cfg))
    # The official setting for comparison: 6 input channels (3 image + 3 mask), 6 output channels,
    # map_augment Linear(9, 128, bias=False) (augment_dim 9) = 9*128 extra parameters.
    for gated in (False, True):
        cfg = celeba64_config(gated)
        cfg.mask_channels, cfg.out_channels = 3, 6
        out["param_counts"][f"celeba64_official_layout_{'gated' if gated else 'ungated'}"] = \
            count_params(DdpmppUNet(cfg)) + 9 * 128
    out["forward_shape_small"] = _check_forward(small_config(True))
    print(json.dumps(out, indent=2))
    if args.list_params:
        for k, p in DdpmppUNet(small_config(False)).named_parameters():
            print(k, tuple(p.shape))


if __name__ == "__main__":
    main()
