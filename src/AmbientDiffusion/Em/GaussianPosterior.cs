using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Em;

/// <summary>
/// Exact posterior samples of a <see cref="GaussianModel"/> given y = x[O] + σ z, by Matheron's rule: draw a prior
/// image x̃ = μ + Σ^½ z and a pseudo-observation ỹ = x̃[O] + √(σ² + jitter) e, then
/// x = x̃ + Σ[:,O] K⁻¹ (y − ỹ) with K = Σ[O,O] + (σ² + jitter) I, which is distributed as x | y. Rows run in parallel;
/// each draws from its own seed only.
/// </summary>
public sealed class GaussianPosterior : IEmPosterior
{
    private readonly GaussianModel _model;
    private readonly double[] _root;

    /// <summary>A posterior of <paramref name="model"/>; a full covariance's symmetric square root is taken once here.</summary>
    public GaussianPosterior(GaussianModel model)
    {
        _model = model;
        var d = model.Dim;
        if (model.Covariance is { } covariance)
        {
            using var scope = torch.NewDisposeScope();
            var (values, vectors) = torch.linalg.eigh(torch.tensor(covariance, [d, d]));
            // Σ^½ = V diag(√λ) (any square root draws the same distribution); rounding can leave λ slightly below 0.
            _root = (vectors * values.clamp(min: 0).sqrt().reshape(1, d)).contiguous().data<double>().ToArray();
        }
        else _root = model.Variance!.Select(v => Math.Sqrt(Math.Max(0, v))).ToArray();
    }

    /// <inheritdoc />
    public string Describe() => $"gaussian ({(_model.IsFull ? "full" : "diagonal")} covariance, D = {_model.Dim}), exact conditionals";

    /// <inheritdoc />
    public Tensor Sample(Tensor y, Tensor masks, IReadOnlyList<double> noiseSigmas, IReadOnlyList<ulong> seeds)
    {
        var (b, c, h, w) = ((int)y.shape[0], (int)y.shape[1], (int)y.shape[2], (int)y.shape[3]);
        var d = _model.Dim;
        if (c * h * w != d) throw new ArgumentException($"observations of {c * h * w} values, the Gaussian has {d}");
        var values = y.to(ScalarType.Float64).contiguous().data<double>();
        var plane = h * w;
        var maskValues = masks.to(ScalarType.Float64).contiguous().data<double>();
        var result = new double[b * d];
        Parallel.For(0, b, row =>
        {
            var observed = Enumerable.Range(0, d).Where(k => maskValues[row * plane + k % plane] > 0).ToArray();
            Draw(values.AsSpan(row * d, d), observed, noiseSigmas[row], new SeededRandom(seeds[row]), result.AsSpan(row * d, d));
        });
        return torch.tensor(result, [b, c, h, w]).clamp(-1, 1);
    }

    private void Draw(ReadOnlySpan<double> y, int[] observed, double noiseSigma, SeededRandom random, Span<double> x)
    {
        var d = _model.Dim;
        var z = new double[d];
        for (var k = 0; k < d; k++) z[k] = random.NextGaussian();
        for (var k = 0; k < d; k++)
            x[k] = _model.Mean[k] + (_model.IsFull ? DenseCholesky.Dot(_root.AsSpan(k * d, d), z) : _root[k] * z[k]);
        var m = observed.Length;
        if (m == 0) return;
        var spread = Math.Sqrt(noiseSigma * noiseSigma + GaussianFit.Jitter);
        var residual = new double[m];
        for (var a = 0; a < m; a++) residual[a] = y[observed[a]] - (x[observed[a]] + spread * random.NextGaussian());
        if (!_model.IsFull)
        {
            // Diagonal: each value is its own one-dimensional system.
            for (var a = 0; a < m; a++)
            {
                var v = _model.Variance![observed[a]];
                x[observed[a]] += v / (v + spread * spread) * residual[a];
            }
            return;
        }
        var kernel = GaussianFit.Kernel(_model, observed, noiseSigma);
        DenseCholesky.Factor(kernel, m);
        DenseCholesky.Solve(kernel, m, residual);
        var covariance = _model.Covariance!;
        for (var r = 0; r < d; r++)
        {
            var row = covariance.AsSpan(r * d, d);
            var s = 0.0;
            for (var a = 0; a < m; a++) s += row[observed[a]] * residual[a];
            x[r] += s;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
