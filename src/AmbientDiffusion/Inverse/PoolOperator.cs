using AmbientDiffusion.Torch;
using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// ×k super-resolution: y = k×k average pooling of x. Aᵀ spreads each value over its block divided by k², and since
/// A Aᵀ = I/k² the pseudo-inverse is k² Aᵀ, nearest-neighbour upsampling.
/// </summary>
public sealed class PoolOperator(OperatorSpec spec, ImageShape shape) : IForwardOperator
{
    /// <inheritdoc />
    public OperatorSpec Spec { get; } = spec.Kind == OperatorKind.Pool ? spec : throw new ArgumentException($"{spec.Describe()} is not pooling");

    /// <inheritdoc />
    public long[] MeasurementShape { get; } = [shape.Channels, shape.Height / spec.Factor, shape.Width / spec.Factor];

    /// <inheritdoc />
    public Tensor Apply(Tensor x) => F.avg_pool2d(x, Spec.Factor);

    /// <inheritdoc />
    public Tensor Adjoint(Tensor y) => F.interpolate_nearest(y, Spec.Factor) / (Spec.Factor * Spec.Factor);

    /// <inheritdoc />
    public Tensor PseudoInverse(Tensor y) => F.interpolate_nearest(y, Spec.Factor);
}
