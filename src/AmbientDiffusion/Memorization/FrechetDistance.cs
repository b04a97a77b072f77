using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// The Fréchet distance between Gaussians fitted to two sets of feature rows (the quantity FID computes on Inception
/// features): |μ_a − μ_b|² + tr(Σ_a) + tr(Σ_b) − 2·tr((Σ_a^½ Σ_b Σ_a^½)^½), in float64. The matrix square roots come
/// from symmetric eigendecompositions, so the trace term is real and stable even for rank-deficient covariances.
/// </summary>
public static class FrechetDistance
{
    /// <summary>Rows each set needs: a covariance needs at least two.</summary>
    public const int MinimumRows = 2;

    /// <summary>Fréchet distance between rows of <paramref name="a"/> [N, D] and <paramref name="b"/> [M, D].</summary>
    public static double Compute(Tensor a, Tensor b)
    {
        MetricInputs.CheckPair(a, b, "Fréchet distance", minimumRows: MinimumRows);
        using var scope = torch.NewDisposeScope();
        var (meanA, covA) = Moments(a);
        var (meanB, covB) = Moments(b);
        var rootA = SymmetricSqrt(covA);
        var (eigenvalues, _) = torch.linalg.eigh(torch.matmul(torch.matmul(rootA, covB), rootA));
        var crossTrace = eigenvalues.clamp(min: 0).sqrt().sum().item<double>();
        var meanTerm = (meanA - meanB).square().sum().item<double>();
        var traces = Trace(covA) + Trace(covB);
        return Math.Max(0, meanTerm + traces - 2 * crossTrace);
    }

    private static (Tensor Mean, Tensor Covariance) Moments(Tensor rows)
    {
        var x = rows.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        return (mean, torch.matmul(centred.transpose(0, 1), centred) / (x.shape[0] - 1));
    }

    private static double Trace(Tensor matrix)
    {
        var n = (int)matrix.shape[0];
        var values = matrix.contiguous().data<double>();
        var trace = 0.0;
        for (var i = 0; i < n; i++) trace += values[i * n + i];
        return trace;
    }

    private static Tensor SymmetricSqrt(Tensor matrix)
    {
        var (values, vectors) = torch.linalg.eigh(matrix);
        return torch.matmul(vectors * values.clamp(min: 0).sqrt(), vectors.transpose(0, 1));
    }
}
