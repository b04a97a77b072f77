using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Models;

/// <summary>
/// A DDPM++ residual block: GroupNorm → SiLU → conv (with optional 2× resampling), plus the noise embedding as a
/// per-channel shift, GroupNorm → SiLU → dropout → conv (initialised near zero), a 1×1 skip when the shape changes,
/// scaled by 1/√2; optionally followed by single-head self-attention, also residual and scaled.
/// </summary>
internal sealed class UNetBlock : torch.nn.Module
{
    private static readonly double SkipScale = Math.Sqrt(0.5);
    private readonly double _dropout;
    private readonly Generator _dropoutGenerator;

    public UNetBlock(long inChannels, long outChannels, long embChannels, Generator init, Generator dropoutGenerator, double dropout, GateActivation? gate, bool up = false, bool down = false, bool attention = false)
    {
        (InChannels, OutChannels, _dropout, _dropoutGenerator) = (inChannels, outChannels, dropout, dropoutGenerator);
        norm0 = register_module(nameof(norm0), new EdmGroupNorm(inChannels));
        conv0 = register_module(nameof(conv0), new EdmConv2d(inChannels, outChannels, 3, 1.0, init, up, down, gate));
        affine = register_module(nameof(affine), new EdmLinear(embChannels, outChannels, 1.0, init));
        norm1 = register_module(nameof(norm1), new EdmGroupNorm(outChannels));
        conv1 = register_module(nameof(conv1), new EdmConv2d(outChannels, outChannels, 3, 1e-5, init, gate: gate));
        if (outChannels != inChannels || up || down)
            skip = register_module(nameof(skip), new EdmConv2d(inChannels, outChannels, 1, 1.0, init, up, down, gate));
        if (!attention) return;
        norm2 = register_module(nameof(norm2), new EdmGroupNorm(outChannels));
        qkv = register_module(nameof(qkv), new EdmConv2d(outChannels, outChannels * 3, 1, Math.Sqrt(0.2), init, gate: gate));
        proj = register_module(nameof(proj), new EdmConv2d(outChannels, outChannels, 1, 1e-5, init, gate: gate));
    }

    public long InChannels { get; }

    public long OutChannels { get; }

#pragma warning disable IDE1006
    private EdmGroupNorm norm0 { get; }
    private EdmConv2d conv0 { get; }
    private EdmLinear affine { get; }
    private EdmGroupNorm norm1 { get; }
    private EdmConv2d conv1 { get; }
    private EdmConv2d? skip { get; }
    private EdmGroupNorm? norm2 { get; }
    private EdmConv2d? qkv { get; }
    private EdmConv2d? proj { get; }
#pragma warning restore IDE1006

    public Tensor forward(Tensor x, Tensor emb)
    {
        using var scope = torch.NewDisposeScope();
        var orig = x;
        var h = conv0.forward(silu(norm0.forward(x)));
        var shift = affine.forward(emb).unsqueeze(2).unsqueeze(3);
        h = silu(norm1.forward(h.add_(shift)));
        h = conv1.forward(dropout(h, _dropout, training, _dropoutGenerator));
        h = h.add_(skip is null ? orig : skip.forward(orig)).mul_(SkipScale);
        if (qkv is not null)
        {
            var (b, c, height, width) = (h.size(0), h.size(1), h.size(2), h.size(3));
            // EDM's layout: the 3C qkv channels are (channel, q|k|v) interleaved.
            var parts = qkv.forward(norm2!.forward(h)).reshape(b, c, 3, height * width);
            var (q, k, v) = (parts.select(2, 0), parts.select(2, 1), parts.select(2, 2));
            // The softmax runs in float32 even under bf16 autocast (a no-op cast otherwise), as in EDM's attention.
            var logits = torch.matmul(q.transpose(1, 2), k).to(ScalarType.Float32).mul_(1.0 / Math.Sqrt(c));
            var weights = softmax(logits, 2).to(v.dtype);
            var attended = torch.matmul(v, weights.transpose(1, 2)).reshape(b, c, height, width);
            h = proj!.forward(attended).add_(h).mul_(SkipScale);
        }
        return scope.MoveToOuter(h);
    }
}
