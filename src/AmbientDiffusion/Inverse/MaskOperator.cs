using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// Inpainting: y = M ⊙ x with a binary mask M per image (shared across colours), drawn by the corruption masks of
/// <c>ambient corrupt</c> (pixel, box, patch). A is diagonal and idempotent, so Aᵀ = A and the pseudo-inverse is the
/// zero fill M ⊙ y.
/// </summary>
public sealed class MaskOperator : IForwardOperator
{
    private readonly Tensor _masks;

    /// <summary>The operator for a batch with masks [B, 1, H, W] (1 observed, 0 removed).</summary>
    public MaskOperator(OperatorSpec spec, ImageShape shape, Tensor masks)
    {
        if (!spec.IsMask) throw new ArgumentException($"{spec.Describe()} is not a mask operator");
        if (masks.dim() != 4 || masks.shape[1] != 1 || masks.shape[2] != shape.Height || masks.shape[3] != shape.Width)
            throw new ArgumentException($"masks must be [B, 1, {shape.Height}, {shape.Width}], got [{string.Join(", ", masks.shape)}]");
        (Spec, MeasurementShape, _masks) = (spec, shape.Dims, masks.to(ScalarType.Float64));
    }

    /// <inheritdoc />
    public OperatorSpec Spec { get; }

    /// <inheritdoc />
    public long[] MeasurementShape { get; }

    /// <summary>The masks, float64 [B, 1, H, W].</summary>
    public Tensor Masks => _masks;

    /// <inheritdoc />
    public Tensor Apply(Tensor x) => x * _masks.to(x.dtype, x.device);

    /// <inheritdoc />
    public Tensor Adjoint(Tensor y) => y * _masks.to(y.dtype, y.device);

    /// <inheritdoc />
    public Tensor PseudoInverse(Tensor y) => Adjoint(y);

    /// <summary>The masks of the given images, uint8 [B, 1, H, W], each from the stream keyed by (seed, index).</summary>
    public static Tensor DrawMasks(OperatorSpec spec, ImageShape shape, ulong seed, IReadOnlyList<long> indices)
    {
        var mask = new CorruptionSpec
        {
            Mask = spec.Kind switch { OperatorKind.Pixel => MaskKind.Pixel, OperatorKind.Box => MaskKind.Box, _ => MaskKind.Patch },
            P = spec.P,
            PatchSize = spec.PatchSize,
        }.ToOperator();
        var plane = shape.Height * shape.Width;
        var bytes = new byte[indices.Count * plane];
        for (var b = 0; b < indices.Count; b++)
        {
            var sample = new CorruptionSample(new float[shape.Pixels], shape.Channels, shape.Height, shape.Width, 1);
            mask.Apply(sample, RandomStreams.For(RandomStream.MeasurementOperator, seed, (ulong)indices[b]));
            sample.Mask.CopyTo(bytes, b * plane);
        }
        return torch.tensor(bytes, [indices.Count, 1, shape.Height, shape.Width]);
    }
}
