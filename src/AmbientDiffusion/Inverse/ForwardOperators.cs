using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// The random state of a forward operator: <see cref="PerImage"/> (masks uint8 [B, 1, H, W] or motion kernels float32
/// [B, k, k], indexed like the images) and <see cref="Shared"/> (the compressed-sensing matrix); null where the family
/// has none.
/// </summary>
public sealed record OperatorState(Tensor? PerImage, Tensor? Shared)
{
    /// <summary>No state (pooling, Gaussian blur).</summary>
    public static OperatorState None { get; } = new(null, null);

    /// <summary>The state of images [start, start + count) (the shared part unchanged).</summary>
    public OperatorState Slice(long start, long count) => new(PerImage?.narrow(0, start, count), Shared);
}

/// <summary>Builds the operator family of a spec: draws its state and makes the operator for a batch.</summary>
public static class ForwardOperators
{
    /// <summary>The state of the images with the given indices, each from streams keyed by (seed, index).</summary>
    public static OperatorState Draw(OperatorSpec spec, ImageShape shape, ulong seed, IReadOnlyList<long> indices)
    {
        spec.Validate();
        spec.CheckGeometry(shape.Channels, shape.Height, shape.Width);
        return spec.Kind switch
        {
            OperatorKind.Pixel or OperatorKind.Box or OperatorKind.Patch => new OperatorState(MaskOperator.DrawMasks(spec, shape, seed, indices), null),
            OperatorKind.MotionBlur => new OperatorState(BlurOperator.DrawMotionKernels(spec, seed, indices), null),
            OperatorKind.Cs => new OperatorState(null, CompressedSensingOperator.DrawMatrix(spec, shape, seed)),
            OperatorKind.Pool or OperatorKind.GaussianBlur => OperatorState.None,
            _ => throw new NotSupportedException(spec.Kind.ToString()),
        };
    }

    /// <summary>The operator for a batch whose state is <paramref name="state"/>.</summary>
    public static IForwardOperator Create(OperatorSpec spec, ImageShape shape, OperatorState state)
    {
        spec.Validate();
        spec.CheckGeometry(shape.Channels, shape.Height, shape.Width);
        return spec.Kind switch
        {
            OperatorKind.Pixel or OperatorKind.Box or OperatorKind.Patch => new MaskOperator(spec, shape, Need(state.PerImage, spec, "masks")),
            OperatorKind.Pool => new PoolOperator(spec, shape),
            OperatorKind.GaussianBlur => new BlurOperator(spec, shape, BlurOperator.GaussianKernel(spec)),
            OperatorKind.MotionBlur => new BlurOperator(spec, shape, Need(state.PerImage, spec, "motion kernels")),
            OperatorKind.Cs => new CompressedSensingOperator(spec, shape, Need(state.Shared, spec, "sensing matrix")),
            _ => throw new NotSupportedException(spec.Kind.ToString()),
        };
    }

    /// <summary>σ_y·z for the given images, z ~ N(0, I) from streams keyed by (seed, index): float64 [B, ..measurement].</summary>
    public static Tensor Noise(OperatorSpec spec, long[] measurementShape, ulong seed, IReadOnlyList<long> indices)
    {
        var size = (int)measurementShape.Aggregate(1L, (a, b) => a * b);
        var values = new double[indices.Count * size];
        for (var b = 0; b < indices.Count; b++)
        {
            var random = RandomStreams.For(RandomStream.MeasurementNoise, seed, (ulong)indices[b]);
            for (var i = 0; i < size; i++) values[b * size + i] = spec.NoiseSigma * random.NextGaussian();
        }
        return torch.tensor(values, [indices.Count, .. measurementShape]);
    }

    private static Tensor Need(Tensor? state, OperatorSpec spec, string what) =>
        state ?? throw new ArgumentException($"{spec.Describe()} needs its {what}, but the operator state has none");
}
