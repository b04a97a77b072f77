using AmbientDiffusion.Inverse;

namespace AmbientDiffusion.Tests;

/// <summary>
/// MMPS and DPS against a prior with a closed-form answer: x ~ N(μ, Σ) as 4×4 images (the theory tests' distribution),
/// whose exact denoiser is D(x, σ) = μ + Σ(Σ + σ²I)⁻¹(x − μ). Given x_t = x + σz and y = A x + σ_y ε the posterior of
/// x is Gaussian with precision Σ⁻¹ + I/σ² + AᵀA/σ_y², which MMPS must reproduce once its CG has converged.
/// </summary>
public class InversePosteriorTests
{
    private const int Side = 4, Dim = Side * Side;
    private static readonly ImageShape Shape = new(1, Side, Side);

    private static double[,] Inverse(double[,] a)
    {
        var n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n + i] = 1;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(m[r, col]));
            for (var j = 0; j < 2 * n; j++) (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            var d = m[col, col];
            for (var j = 0; j < 2 * n; j++) m[col, j] /= d;
            for (var r = 0; r < n; r++)
            {
                if (r == col) continue;
                var f = m[r, col];
                for (var j = 0; j < 2 * n; j++) m[r, j] -= f * m[col, j];
            }
        }
        var inverse = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) inverse[i, j] = m[i, n + j];
        return inverse;
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        var (n, k, p) = (a.GetLength(0), a.GetLength(1), b.GetLength(1));
        var c = new double[n, p];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < p; j++)
                for (var l = 0; l < k; l++) c[i, j] += a[i, l] * b[l, j];
        return c;
    }

    private static double[] Apply(double[,] a, double[] x) =>
        Enumerable.Range(0, a.GetLength(0)).Select(i => Enumerable.Range(0, x.Length).Sum(j => a[i, j] * x[j])).ToArray();

    private static double[,] ToArray(Tensor t)
    {
        var values = t.to(ScalarType.Float64).contiguous().data<double>();
        var (n, m) = ((int)t.shape[0], (int)t.shape[1]);
        var a = new double[n, m];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < m; j++) a[i, j] = values[i * m + j];
        return a;
    }

    /// <summary>The exact denoiser as torch operations (differentiable), with its gain matrices cached per σ.</summary>
    private sealed class GaussianPrior(double[] mu, double[,] sigma)
    {
        public Tensor Denoise(Tensor x, double noise)
        {
            var shifted = new double[Dim, Dim];
            for (var i = 0; i < Dim; i++)
                for (var j = 0; j < Dim; j++) shifted[i, j] = sigma[i, j] + (i == j ? noise * noise : 0);
            var gain = Multiply(sigma, Inverse(shifted));
            var g = torch.tensor(Flatten(gain), [Dim, Dim]).to(ScalarType.Float64);
            var m = torch.tensor(mu, [1, Dim]);
            var flat = x.reshape(x.shape[0], Dim) - m;
            return (m + torch.matmul(flat, g.transpose(0, 1))).reshape(x.shape);
        }
    }

    private static double[] Flatten(double[,] a) => a.Cast<double>().ToArray();

    [Theory]
    [InlineData("cs(m=6) + noise(sigma=0.1)", 0.5, 6, JacobianProduct.Reverse)]
    [InlineData("pixel(p=0.5) + noise(sigma=0.05)", 0.2, 16, JacobianProduct.Reverse)]
    [InlineData("gaussian_blur(size=3, sigma=1) + noise(sigma=0.05)", 1.0, 16, JacobianProduct.Reverse)]
    [InlineData("cs(m=6) + noise(sigma=0.1)", 0.5, 6, JacobianProduct.Forward)]
    [InlineData("pixel(p=0.5) + noise(sigma=0.05)", 0.2, 16, JacobianProduct.Forward)]
    public void Mmps_reproduces_the_analytic_posterior_mean_of_a_gaussian_prior(string text, double noise, int cgIterations, JacobianProduct product)
    {
        using var scope = torch.NewDisposeScope();
        var (mu, sigma) = GaussianTheoryTests.Distribution();
        var prior = new GaussianPrior(mu, sigma);
        var spec = OperatorSpec.Parse(text);
        var op = ForwardOperators.Create(spec, Shape, ForwardOperators.Draw(spec, Shape, 9, [0]));
        // The matrix of A, column by column, and a draw of (x, x_t, y).
        var identity = new double[Dim * Dim];
        for (var j = 0; j < Dim; j++) identity[j * Dim + j] = 1;
        var a = ToArray(op.Apply(torch.tensor(identity, [Dim, 1, Side, Side])).reshape(Dim, -1).transpose(0, 1));
        var random = new Common.SeededRandom(3);
        var x = GaussianTheoryTests.Sample(mu, GaussianTheoryTests.Cholesky(sigma), random);
        var xt = x.Select(v => v + noise * random.NextGaussian()).ToArray();
        var y = Apply(a, x).Select(v => v + spec.NoiseSigma * random.NextGaussian()).ToArray();
        // Analytic: P = Σ⁻¹ + I/σ² + AᵀA/σ_y², mean = P⁻¹(Σ⁻¹μ + x_t/σ² + Aᵀy/σ_y²).
        var sigmaInverse = Inverse(sigma);
        var precision = new double[Dim, Dim];
        var rhs = Apply(sigmaInverse, mu);
        var vy = spec.NoiseSigma * spec.NoiseSigma;
        for (var i = 0; i < Dim; i++)
        {
            rhs[i] += xt[i] / (noise * noise);
            for (var k = 0; k < a.GetLength(0); k++) rhs[i] += a[k, i] * y[k] / vy;
            for (var j = 0; j < Dim; j++)
            {
                precision[i, j] = sigmaInverse[i, j] + (i == j ? 1 / (noise * noise) : 0);
                for (var k = 0; k < a.GetLength(0); k++) precision[i, j] += a[k, i] * a[k, j] / vy;
            }
        }
        var expected = Apply(Inverse(precision), rhs);
        var mmps = PosteriorSteps.MomentMatched(prior.Denoise, torch.tensor(xt, [1, 1, Side, Side]), noise, op,
            torch.tensor(y, [1, .. op.MeasurementShape]), vy, cgIterations, product).reshape(Dim).data<double>();
        var error = expected.Zip(mmps, (e, m) => Math.Abs(e - m)).Max();
        Assert.True(error < 1e-6, $"{text}: max |MMPS - analytic| = {error}");
        // And the guidance matters: the unconditional denoiser alone is far from it.
        var plain = prior.Denoise(torch.tensor(xt, [1, 1, Side, Side]), noise).reshape(Dim).data<double>();
        Assert.True(expected.Zip(plain, (e, p) => Math.Abs(e - p)).Max() > 100 * error);
    }

    [Fact]
    public void Dps_on_the_gaussian_prior_moves_the_consistency_error_down()
    {
        using var scope = torch.NewDisposeScope();
        var (mu, sigma) = GaussianTheoryTests.Distribution();
        var prior = new GaussianPrior(mu, sigma);
        var spec = OperatorSpec.Parse("pixel(p=0.5)");
        var seeds = Enumerable.Range(0, 16).Select(i => (ulong)i).ToList();
        var indices = seeds.Select(s => (long)s).ToList();
        var op = ForwardOperators.Create(spec, Shape, ForwardOperators.Draw(spec, Shape, 1, indices));
        var random = new Common.SeededRandom(8);
        var cholesky = GaussianTheoryTests.Cholesky(sigma);
        var clean = torch.tensor(seeds.SelectMany(_ => GaussianTheoryTests.Sample(mu, cholesky, random)).ToArray(), [16, 1, Side, Side]);
        var y = op.Apply(clean);
        double Consistency(double scale)
        {
            var options = new ReconstructionOptions { Method = PosteriorMethod.Dps, GuidanceScale = scale, Steps = 18 };
            var x = new PosteriorSampler(options).Sample(prior.Denoise, op, y, seeds, Shape, 0);
            return ReconstructionMetrics.Consistency(op, x, y).Average();
        }
        var unguided = Consistency(0);
        var guided = Consistency(0.5);
        Assert.True(guided < 0.5 * unguided, $"consistency ||A x - y||: unguided {unguided:F4}, DPS {guided:F4}");
    }
}
