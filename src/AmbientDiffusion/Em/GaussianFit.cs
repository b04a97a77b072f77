using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Em;

/// <summary>
/// EM for a Gaussian x ~ N(μ, Σ) from observations y_i = x_i[O_i] + σ_i z (missing data, Little &amp; Rubin; DiEM's
/// initialization). Each iteration is closed form: with K_i = Σ[O,O] + (σ_i² + <see cref="Jitter"/>) I, the posterior
/// of x_i has mean x̂_i = μ + Σ[:,O] K_i⁻¹ (y_i − μ[O]) and covariance C_i = Σ − Σ[:,O] K_i⁻¹ Σ[O,:]; then
/// μ ← mean x̂_i and Σ ← mean(x̂_i x̂_iᵀ + C_i) − μμᵀ. The sum of the C_i is taken as N Σ − Σ P Σ with P = Σ_i K_i⁻¹
/// scattered onto O_i × O_i, so no D×D matrix is formed per observation. A diagonal model does the same per value.
/// Start: μ and a diagonal Σ from each value's observed mean and variance. Partial sums are added in a fixed order, so
/// the fit is the same on any number of cores.
/// </summary>
public static class GaussianFit
{
    /// <summary>Added to every observation's noise variance: a floor that keeps K_i positive definite where a value
    /// barely varies (Fashion-MNIST's black border), 1e-4 in [-1, 1] units (an s.d. of 0.01, 1.3 grey levels).</summary>
    public const double Jitter = 1e-4;

    /// <summary>Observations per unit of work; the units' partial sums are added in index order.</summary>
    private const int Chunk = 16;

    /// <summary>Chunks computed side by side before their sums are added (fixed, so the sum order never depends on the machine).</summary>
    private const int Wave = 8;

    /// <summary>Fits the model in <paramref name="iterations"/> EM iterations.</summary>
    public static GaussianModel Fit(GaussianObservations data, int iterations, bool full, CancellationToken cancel = default)
    {
        var model = Start(data, full);
        for (var t = 0; t < iterations; t++)
        {
            cancel.ThrowIfCancellationRequested();
            model = full ? FullStep(data, model) : DiagonalStep(data, model);
        }
        return model;
    }

    /// <summary>Each value's observed mean, and its observed variance as a diagonal covariance.</summary>
    public static GaussianModel Start(GaussianObservations data, bool full)
    {
        var d = data.Dim;
        var (sum, sumSq, count) = (new double[d], new double[d], new double[d]);
        for (var i = 0; i < data.Count; i++)
            for (var k = 0; k < d; k++)
            {
                if (data.Observed[(long)i * d + k] == 0) continue;
                var v = data.Values[(long)i * d + k];
                (sum[k], sumSq[k], count[k]) = (sum[k] + v, sumSq[k] + v * v, count[k] + 1);
            }
        var mean = new double[d];
        var variance = new double[d];
        for (var k = 0; k < d; k++)
        {
            if (count[k] == 0) continue;
            mean[k] = sum[k] / count[k];
            variance[k] = Math.Max(0, sumSq[k] / count[k] - mean[k] * mean[k]);
        }
        if (!full) return new GaussianModel(d, mean, null, variance);
        var covariance = new double[d * d];
        for (var k = 0; k < d; k++) covariance[k * d + k] = variance[k];
        return new GaussianModel(d, mean, covariance, null);
    }

    private static GaussianModel DiagonalStep(GaussianObservations data, GaussianModel model)
    {
        var d = data.Dim;
        var (mu, v) = (model.Mean, model.Variance!);
        var (sum, second) = (new double[d], new double[d]);
        for (var i = 0; i < data.Count; i++)
        {
            var noise = data.NoiseSigma[i] * data.NoiseSigma[i] + Jitter;
            for (var k = 0; k < d; k++)
            {
                double mean, variance;
                if (data.Observed[(long)i * d + k] != 0)
                {
                    var gain = v[k] / (v[k] + noise);
                    (mean, variance) = (mu[k] + gain * (data.Values[(long)i * d + k] - mu[k]), v[k] - gain * v[k]);
                }
                else (mean, variance) = (mu[k], v[k]);
                sum[k] += mean;
                second[k] += mean * mean + variance;
            }
        }
        var n = (double)data.Count;
        var newMean = sum.Select(s => s / n).ToArray();
        var newVariance = second.Select((s, k) => Math.Max(0, s / n - newMean[k] * newMean[k])).ToArray();
        return new GaussianModel(d, newMean, null, newVariance);
    }

    private static GaussianModel FullStep(GaussianObservations data, GaussianModel model)
    {
        var (d, n) = (data.Dim, data.Count);
        var sigma = model.Covariance!;
        var means = new double[(long)n * d];
        var precisionSum = new double[d * d];
        var chunks = (n + Chunk - 1) / Chunk;
        for (var wave = 0; wave < chunks; wave += Wave)
        {
            var count = Math.Min(Wave, chunks - wave);
            var partial = new double[count][];
            Parallel.For(0, count, c =>
            {
                var sum = new double[d * d];
                var first = (wave + c) * Chunk;
                for (var i = first; i < Math.Min(n, first + Chunk); i++) Accumulate(data, model, i, means.AsSpan(i * d, d), sum);
                partial[c] = sum;
            });
            foreach (var sum in partial)
                for (var k = 0; k < sum.Length; k++) precisionSum[k] += sum[k];
        }
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(means, [n, d]);
        var s = torch.tensor(sigma, [d, d]);
        var p = torch.tensor(precisionSum, [d, d]);
        var mu = x.mean([0]);
        var second = torch.matmul(x.transpose(0, 1), x) + s * n - torch.matmul(torch.matmul(s, p), s);
        var covariance = second / n - torch.matmul(mu.reshape(d, 1), mu.reshape(1, d));
        covariance = (covariance + covariance.transpose(0, 1)) * 0.5;
        return new GaussianModel(d, mu.data<double>().ToArray(), covariance.contiguous().data<double>().ToArray(), null);
    }

    /// <summary>Row i's posterior mean into <paramref name="mean"/>, and K_i⁻¹ added onto O_i × O_i of <paramref name="precisionSum"/>.</summary>
    private static void Accumulate(GaussianObservations data, GaussianModel model, int i, Span<double> mean, double[] precisionSum)
    {
        var d = data.Dim;
        var sigma = model.Covariance!;
        var o = data.ObservedIndices(i);
        var m = o.Length;
        model.Mean.CopyTo(mean);
        if (m == 0) return;
        var k = Kernel(model, o, data.NoiseSigma[i]);
        DenseCholesky.Factor(k, m);
        var w = new double[m];
        for (var a = 0; a < m; a++) w[a] = data.Values[(long)i * d + o[a]] - model.Mean[o[a]];
        DenseCholesky.Solve(k, m, w);
        for (var r = 0; r < d; r++)
        {
            var row = sigma.AsSpan(r * d, d);
            var s = 0.0;
            for (var a = 0; a < m; a++) s += row[o[a]] * w[a];
            mean[r] += s;
        }
        var inverse = DenseCholesky.Inverse(k, m);
        for (var a = 0; a < m; a++)
        {
            var target = precisionSum.AsSpan(o[a] * d, d);
            var source = inverse.AsSpan(a * m, m);
            for (var b = 0; b < m; b++) target[o[b]] += source[b];
        }
    }

    /// <summary>K = Σ[O,O] + (σ² + <see cref="Jitter"/>) I, row-major.</summary>
    internal static double[] Kernel(GaussianModel model, int[] observed, double noiseSigma)
    {
        var m = observed.Length;
        var k = new double[m * m];
        for (var a = 0; a < m; a++)
        {
            for (var b = 0; b < m; b++) k[a * m + b] = model.At(observed[a], observed[b]);
            k[a * m + a] += noiseSigma * noiseSigma + Jitter;
        }
        return k;
    }
}
