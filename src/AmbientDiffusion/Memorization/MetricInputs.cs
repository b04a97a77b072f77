using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Memorization;

/// <summary>The one check every metric makes of its two feature sets, with errors that name the metric and the shapes.</summary>
internal static class MetricInputs
{
    /// <summary>Throws <see cref="ArgumentException"/> unless both sets are [N, D] rows of one width D ≥ 1, with at
    /// least <paramref name="minimumRows"/> rows each and only finite values.</summary>
    public static void CheckPair(Tensor first, Tensor second, string metric, int minimumRows)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.dim() != 2 || second.dim() != 2)
            throw new ArgumentException($"{metric} needs two [N, D] feature matrices, got [{Shape(first)}] and [{Shape(second)}]");
        if (first.shape[1] != second.shape[1])
            throw new ArgumentException($"{metric}: the feature widths differ ([{Shape(first)}] against [{Shape(second)}]); both sets must come from the same feature extractor");
        if (first.shape[1] < 1) throw new ArgumentException($"{metric}: the features have no columns");
        if (first.shape[0] < minimumRows || second.shape[0] < minimumRows)
            throw new ArgumentException($"{metric} needs at least {minimumRows} rows in each set, got {first.shape[0]} and {second.shape[0]}");
        if (first.dtype is not (ScalarType.Float32 or ScalarType.Float64) || second.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"{metric} needs float32 or float64 features, got {first.dtype} and {second.dtype}");
        using var scope = torch.NewDisposeScope();
        if (!first.isfinite().all().item<bool>() || !second.isfinite().all().item<bool>())
            throw new ArgumentException($"{metric}: the features hold NaN or infinite values");
    }

    private static string Shape(Tensor t) => string.Join(", ", t.shape);
}
