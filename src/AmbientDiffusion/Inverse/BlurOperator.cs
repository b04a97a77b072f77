using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;
using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// Deblurring: y = k ∗ x per colour channel with zero padding ("same" size), one kernel shared (Gaussian) or one per
/// image (motion). Aᵀ is the transposed convolution with the same kernel. The baseline solves the damped normal
/// equations (AᵀA + λI) x = Aᵀ y by conjugate gradients.
/// </summary>
public sealed class BlurOperator : IForwardOperator
{
    /// <summary>λ of the baseline's damped least squares: small enough to deblur, large enough to stay stable.</summary>
    public const double BaselineDamping = 1e-2;

    /// <summary>CG iterations of the baseline.</summary>
    public const int BaselineIterations = 50;

    private readonly Tensor _kernels;
    private readonly int _channels;

    /// <summary>The operator with kernels [1 or B, k, k] (each summing to 1).</summary>
    public BlurOperator(OperatorSpec spec, ImageShape shape, Tensor kernels)
    {
        if (spec.Kind is not (OperatorKind.GaussianBlur or OperatorKind.MotionBlur)) throw new ArgumentException($"{spec.Describe()} is not a blur");
        if (kernels.dim() != 3 || kernels.shape[1] != spec.KernelSize || kernels.shape[2] != spec.KernelSize)
            throw new ArgumentException($"blur kernels must be [B, {spec.KernelSize}, {spec.KernelSize}], got [{string.Join(", ", kernels.shape)}]");
        (Spec, MeasurementShape, _channels, _kernels) = (spec, shape.Dims, shape.Channels, kernels.to(ScalarType.Float64));
    }

    /// <inheritdoc />
    public OperatorSpec Spec { get; }

    /// <inheritdoc />
    public long[] MeasurementShape { get; }

    /// <summary>The shared Gaussian kernel, float64 [1, k, k].</summary>
    public static Tensor GaussianKernel(OperatorSpec spec) =>
        torch.tensor(BlurKernels.Gaussian(spec.KernelSize, spec.BlurSigma), [1, spec.KernelSize, spec.KernelSize]);

    /// <summary>The motion kernels of the given images, float32 [B, k, k], each from the stream keyed by (seed, index).</summary>
    public static Tensor DrawMotionKernels(OperatorSpec spec, ulong seed, IReadOnlyList<long> indices)
    {
        var k = spec.KernelSize;
        var values = new float[indices.Count * k * k];
        for (var b = 0; b < indices.Count; b++)
        {
            var kernel = BlurKernels.Motion(k, spec.Intensity, RandomStreams.For(RandomStream.MeasurementOperator, seed, (ulong)indices[b]));
            for (var i = 0; i < kernel.Length; i++) values[b * k * k + i] = (float)kernel[i];
        }
        return torch.tensor(values, [indices.Count, k, k]);
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor x) => Convolve(x, transposed: false);

    /// <inheritdoc />
    public Tensor Adjoint(Tensor y) => Convolve(y, transposed: true);

    /// <inheritdoc />
    public Tensor PseudoInverse(Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        var rhs = Adjoint(y);
        return scope.MoveToOuter(ConjugateGradient.Solve(v => Adjoint(Apply(v)) + BaselineDamping * v, rhs, BaselineIterations));
    }

    // Every (image, channel) plane is its own group, so per-image kernels need no loop over the batch.
    private Tensor Convolve(Tensor x, bool transposed)
    {
        using var scope = torch.NewDisposeScope();
        var (b, h, w) = (x.shape[0], x.shape[2], x.shape[3]);
        var k = Spec.KernelSize;
        if (_kernels.shape[0] != 1 && _kernels.shape[0] != b) throw new ArgumentException($"{b} images but {_kernels.shape[0]} blur kernels");
        var weight = _kernels.to(x.dtype, x.device).unsqueeze(1).expand(b, _channels, k, k).reshape(b * _channels, 1, k, k);
        var planes = x.reshape(1, b * _channels, h, w);
        var result = transposed
            ? F.conv_transpose2d(planes, weight, padding: k / 2, groups: b * _channels)
            : F.conv2d(planes, weight, padding: k / 2, groups: b * _channels);
        return scope.MoveToOuter(result.reshape(b, _channels, h, w));
    }
}
