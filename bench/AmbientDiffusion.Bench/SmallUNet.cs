using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch;
using static AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Bench;

// Layer-for-layer mirror of SmallUNet in bench/pytorch/reference_bench.py (spec: bench/pytorch/SMALL_UNET.md).
// Registration order == PyTorch attribute order, so named_parameters() lists the same names, shapes and order.

/// <summary>h = conv1(silu(norm1(x))); h = conv2(silu(norm2(h))); return skip(x) + h.</summary>
internal sealed class ResBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.GroupNorm _norm1, _norm2;
    private readonly nn.Conv2d _conv1, _conv2;
    private readonly nn.Conv2d? _skip;

    public ResBlock(long cin, long cout)
    {
        _norm1 = register_module("norm1", new nn.GroupNorm(8, cin, eps: 1e-6));
        _conv1 = register_module("conv1", new nn.Conv2d(cin, cout, 3, padding: 1));
        _norm2 = register_module("norm2", new nn.GroupNorm(8, cout, eps: 1e-6));
        _conv2 = register_module("conv2", new nn.Conv2d(cout, cout, 3, padding: 1));
        if (cin != cout) _skip = register_module("skip", new nn.Conv2d(cin, cout, 1));
    }

    public override Tensor forward(Tensor x)
    {
        var h = _conv1.forward(silu(_norm1.forward(x)));
        h = _conv2.forward(silu(_norm2.forward(h)));
        var s = _skip is null ? x : _skip.forward(x);
        return s + h;
    }
}

/// <summary>Single-head self-attention over the H*W tokens, written with bmm + softmax as the reference.</summary>
internal sealed class AttnBlock : nn.Module<Tensor, Tensor>
{
    private readonly long _c;
    private readonly nn.GroupNorm _norm;
    private readonly nn.Conv2d _qkv, _proj;

    public AttnBlock(long c)
    {
        _c = c;
        _norm = register_module("norm", new nn.GroupNorm(8, c, eps: 1e-6));
        _qkv = register_module("qkv", new nn.Conv2d(c, 3 * c, 1));
        _proj = register_module("proj", new nn.Conv2d(c, c, 1));
    }

    public override Tensor forward(Tensor x)
    {
        var s = x.shape;
        var (b, c, h, w) = (s[0], s[1], s[2], s[3]);
        var qkv = _qkv.forward(_norm.forward(x)).reshape(b, 3 * c, h * w);
        var q = qkv.narrow(1, 0, c);                                        // [B, C, HW]
        var k = qkv.narrow(1, c, c);
        var v = qkv.narrow(1, 2 * c, c);
        var weights = bmm(q.transpose(1, 2), k) * (1.0 / Math.Sqrt(_c));   // [B, HW, HW]
        weights = softmax(weights, -1);
        var a = bmm(v, weights.transpose(1, 2)).reshape(b, c, h, w);       // [B, C, HW] -> [B, C, H, W]
        return x + _proj.forward(a);
    }
}

/// <summary>conv_in, enc, down, mid1, attn, mid2, upsample, up_conv, cat with enc, dec, norm_out + SiLU, conv_out.</summary>
internal sealed class SmallUNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Conv2d _convIn, _down, _upConv, _convOut;
    private readonly ResBlock _enc, _mid1, _mid2, _dec;
    private readonly AttnBlock _attn;
    private readonly nn.GroupNorm _normOut;

    public SmallUNet()
    {
        _convIn = register_module("conv_in", new nn.Conv2d(1, 32, 3, padding: 1));
        _enc = register_module("enc", new ResBlock(32, 32));
        _down = register_module("down", new nn.Conv2d(32, 64, 3, stride: 2, padding: 1));
        _mid1 = register_module("mid1", new ResBlock(64, 64));
        _attn = register_module("attn", new AttnBlock(64));
        _mid2 = register_module("mid2", new ResBlock(64, 64));
        _upConv = register_module("up_conv", new nn.Conv2d(64, 32, 3, padding: 1));
        _dec = register_module("dec", new ResBlock(64, 32));
        _normOut = register_module("norm_out", new nn.GroupNorm(8, 32, eps: 1e-6));
        _convOut = register_module("conv_out", new nn.Conv2d(32, 1, 3, padding: 1));
    }

    public override Tensor forward(Tensor x)
    {
        var h = _convIn.forward(x);
        var e = _enc.forward(h);                       // [B,32,32,32]
        h = _down.forward(e);                          // [B,64,16,16]
        h = _mid1.forward(h);
        h = _attn.forward(h);
        h = _mid2.forward(h);
        h = interpolate_nearest(h, 2);                 // [B,64,32,32]
        h = _upConv.forward(h);                        // [B,32,32,32]
        h = cat([h, e], 1);                            // [B,64,32,32]
        h = _dec.forward(h);                           // [B,32,32,32]
        return _convOut.forward(silu(_normOut.forward(h)));  // [B,1,32,32]
    }
}
