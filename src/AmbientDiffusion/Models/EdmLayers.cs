using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Models;

/// <summary>Fully connected layer with EDM's initialisation (bias starts at zero).</summary>
internal sealed class EdmLinear : torch.nn.Module
{
    public EdmLinear(long inFeatures, long outFeatures, double initWeight, Generator generator)
    {
        weight = register_parameter(nameof(weight), WeightInit.XavierUniform([outFeatures, inFeatures], inFeatures, outFeatures, initWeight, generator));
        bias = register_parameter(nameof(bias), WeightInit.Zeros([outFeatures]));
    }

    public torch.nn.Parameter weight { get; }

    public torch.nn.Parameter bias { get; }

    public Tensor forward(Tensor x) => linear(x, weight, bias);
}

/// <summary>
/// EDM's convolution: optional 2× resampling before a k×k convolution (k = 0: resampling only). With the resample
/// filter [1, 1] EDM's strided depthwise convolutions are exactly 2×2 average pooling (down) and nearest-neighbour
/// upsampling (up), which is how they are computed here. With a <c>gate</c>, y = conv(x, W)·σ(conv(x, G)) + b, the
/// gated convolution of the authors' masked models (σ applied once), or σ(σ(·)) as their code computes it
/// (<see cref="GateActivation.SigmoidTwice"/>).
/// </summary>
internal sealed class EdmConv2d : torch.nn.Module
{
    private readonly bool _up, _down, _gateTwice;

    public EdmConv2d(long inChannels, long outChannels, int kernel, double initWeight, Generator generator, bool up = false, bool down = false, GateActivation? gate = null)
    {
        (_up, _down, _gateTwice, InChannels, OutChannels) = (up, down, gate == GateActivation.SigmoidTwice, inChannels, outChannels);
        if (kernel == 0) return;
        var shape = new long[] { outChannels, inChannels, kernel, kernel };
        var (fanIn, fanOut) = (inChannels * kernel * kernel, outChannels * kernel * kernel);
        // Registration order (weight, bias, gate_weight) is the parameter order of EDM and of bench/pytorch/ambient,
        // so checkpoints load into either.
        weight = register_parameter(nameof(weight), WeightInit.XavierUniform(shape, fanIn, fanOut, initWeight, generator));
        bias = register_parameter(nameof(bias), WeightInit.Zeros([outChannels]));
        if (gate is not null) this.gate = register_parameter("gate_weight", WeightInit.XavierUniform(shape, fanIn, fanOut, initWeight, generator));
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    public torch.nn.Parameter? weight { get; }

    public torch.nn.Parameter? gate { get; }

    public torch.nn.Parameter? bias { get; }

    private Tensor Gate(Tensor logits) => _gateTwice ? logits.sigmoid().sigmoid() : logits.sigmoid();

    public Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        if (_up) x = upsample_nearest2d(x, x.size(2) * 2, x.size(3) * 2);
        if (_down) x = avg_pool2d(x, 2);
        if (weight is not null)
        {
            var padding = weight.size(-1) / 2;
            x = gate is null
                ? conv2d(x, weight, bias, padding: padding)
                : conv2d(x, weight, null, padding: padding) * Gate(conv2d(x, gate, null, padding: padding)) + bias!.reshape(1, -1, 1, 1);
        }
        else
        {
            x = x.alias();
        }
        return scope.MoveToOuter(x);
    }
}

/// <summary>Group normalisation with EDM's group count: min(32, channels/4).</summary>
internal sealed class EdmGroupNorm : torch.nn.Module
{
    private readonly long _groups;
    private readonly double _eps;

    public EdmGroupNorm(long channels, double eps = 1e-6)
    {
        (_groups, _eps) = (Math.Min(32, channels / 4), eps);
        using var scope = torch.NewDisposeScope();
        weight = register_parameter(nameof(weight), new torch.nn.Parameter(torch.ones([channels])));
        bias = register_parameter(nameof(bias), new torch.nn.Parameter(torch.zeros([channels])));
    }

    public torch.nn.Parameter weight { get; }

    public torch.nn.Parameter bias { get; }

    /// <summary>Normalises in the parameters' dtype (float32). Under bf16 autocast x arrives in bf16 from a convolution: CUDA's autocast runs
    /// group_norm in float32 by itself, and on the CPU libtorch 1.13's bf16 group_norm is about 7x slower than float32
    /// (and the SiLU after it 2-3x), which cost 15% of a CelebA-64 bf16 step. The output stays float32; the next
    /// convolution casts it back.</summary>
    public Tensor forward(Tensor x)
    {
        if (x.dtype == weight.dtype) return group_norm(x, _groups, weight, bias, _eps);
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(group_norm(x.to(weight.dtype), _groups, weight, bias, _eps));
    }
}
