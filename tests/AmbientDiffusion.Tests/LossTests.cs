using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;

namespace AmbientDiffusion.Tests;

/// <summary>A fixed network with a known formula, F(input, c) = 0.5·input[:, :C] + 0.1·c, to check the losses' arithmetic by hand.</summary>
internal sealed class KnownNetwork(int channels, int maskChannels, int resolution) : NoiseConditionedNetwork
{
    public override int ImageChannels => channels;

    public override int MaskChannels => maskChannels;

    public override int Resolution => resolution;

    public override Tensor forward(Tensor input, Tensor noiseLabels) =>
        input.narrow(1, 0, channels) * 0.5 + noiseLabels.reshape(-1, 1, 1, 1) * 0.1;

    public static double F(double scaledInput, double sigma) => 0.5 * scaledInput + 0.1 * Math.Log(sigma) / 4;
}

public class LossTests
{
    private const double Sd = 0.5;

    private static (double skip, double output, double input, double weight) Coefficients(double sigma)
    {
        var variance = sigma * sigma + Sd * Sd;
        return (Sd * Sd / variance, sigma * Sd / Math.Sqrt(variance), 1 / Math.Sqrt(variance), variance / (sigma * Sd * sigma * Sd));
    }

    private static double Denoise(double x, double sigma)
    {
        var c = Coefficients(sigma);
        return c.skip * x + c.output * KnownNetwork.F(c.input * x, sigma);
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance = 2e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static readonly float[] Y = [0.2f, -0.4f, 0.9f, 0f, 0.1f, -1f, 0.3f, 0.5f, 0f, -0.2f, 0.7f, 0.6f, 0f, 0.8f, -0.5f, 0.05f, 0.4f, 0f];

    [Fact]
    public void Ambient_terms_match_the_formula()
    {
        using var scope = torch.NewDisposeScope();
        float[] a = [1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0];
        var batch = new CorruptedBatch(torch.tensor(Y, [2, 1, 3, 3]), torch.tensor(a, [2, 1, 3, 3]), torch.zeros([2]), [0, 1]);
        using var denoiser = new EdmPreconditioner(new KnownNetwork(1, 1, 3));
        const double delta = 0.3;
        var loss = new AmbientLoss(new NoiseLevelDistribution(), new FurtherCorruption(delta), 0);
        using var generator = new StackedGenerator([42, 43]);
        var terms = loss.Compute(denoiser, batch, generator);

        // Replay each example's own generator: σ, then its further-corruption draw, then its noise.
        var (sigma, keep, noise) = (new double[2], new float[18], new float[18]);
        for (var b = 0; b < 2; b++)
        {
            using var replay = new Generator(42 + (ulong)b);
            sigma[b] = Math.Exp(torch.randn([], generator: replay).item<float>() * 1.2 - 1.2);
            torch.rand([1, 3, 3], generator: replay).data<float>().CopyTo(keep, 9 * b);
            torch.randn([1, 3, 3], generator: replay).data<float>().CopyTo(noise, 9 * b);
        }
        var expected = new double[18];
        for (var i = 0; i < 18; i++)
        {
            var s = sigma[i / 9];
            var aTilde = a[i] * (keep[i] >= delta ? 1 : 0);
            var xIn = aTilde * (Y[i] + s * noise[i]);
            var c = Coefficients(s);
            // Pixels hidden by Ã are preconditioned as pure noise: c_skip = 0, c_out = σ_d, weight 1/σ_d².
            var (skip, output, weight) = aTilde == 1 ? (c.skip, c.output, c.weight) : (0, Sd, 1 / (Sd * Sd));
            var d = skip * xIn + output * KnownNetwork.F(c.input * xIn, s);
            expected[i] = weight * Math.Pow(a[i] * (d - Y[i]), 2);
        }
        AssertClose(expected, terms.Terms.data<float>());
        Assert.Equal(a, terms.Counted.data<float>());
        // Removed pixels contribute nothing.
        Assert.All(Enumerable.Range(0, 18).Where(i => a[i] == 0), i => Assert.Equal(0f, terms.Terms.data<float>()[i]));
    }

    [Fact]
    public void Tweedie_terms_match_the_formula_and_reduce_to_edm_for_clean_images()
    {
        using var scope = torch.NewDisposeScope();
        float[] sigmaN = [0.3f, 0f];
        var batch = new CorruptedBatch(torch.tensor(Y, [2, 1, 3, 3]), torch.ones([2, 1, 3, 3]), torch.tensor(sigmaN), [0, 1]);
        using var denoiser = new EdmPreconditioner(new KnownNetwork(1, 0, 3));
        var loss = new TweedieLoss(new NoiseLevelDistribution());
        using var generator = new StackedGenerator([7, 8]);
        var terms = loss.Compute(denoiser, batch, generator).Terms.data<float>();

        using var replay = new StackedGenerator([7, 8]);
        var sigmaT = new NoiseLevelDistribution().SampleAbove(torch.tensor(sigmaN), replay).data<float>();
        Assert.True(sigmaT[0] > 0.3f);
        var noise = replay.randn([1, 3, 3]).data<float>();
        var expected = new double[18];
        for (var i = 0; i < 18; i++)
        {
            double st = sigmaT[i / 9], sn = sigmaN[i / 9];
            var xt = Y[i] + Math.Sqrt(st * st - sn * sn) * noise[i];
            var x0 = Denoise(xt, st);
            var r = sn * sn / (st * st);
            var xtn = r * xt + (1 - r) * x0;
            expected[i] = Coefficients(st).weight * Math.Pow(xtn - Y[i], 2);
            // For σ_n = 0 the term is exactly EDM's λ‖D(y + σε) − y‖².
            if (sn == 0) Assert.Equal(Coefficients(st).weight * Math.Pow(x0 - Y[i], 2), expected[i], 12);
        }
        AssertClose(expected, terms);
    }

    [Fact]
    public void Consistency_terms_are_the_product_of_two_independent_deviations()
    {
        using var scope = torch.NewDisposeScope();
        float[] sigmaN = [0.3f, 0f];
        var batch = new CorruptedBatch(torch.tensor(Y, [2, 1, 3, 3]), torch.ones([2, 1, 3, 3]), torch.tensor(sigmaN), [0, 1]);
        using var denoiser = new EdmPreconditioner(new KnownNetwork(1, 0, 3));
        const double weight = 0.7;
        var withConsistency = new TweedieLoss(new NoiseLevelDistribution(), consistency: new ConsistencyOptions(weight, Steps: 1));
        using var generator = new StackedGenerator([9, 10]);
        var total = withConsistency.Compute(denoiser, batch, generator).Terms.data<float>();

        // Replay each example's generator: the Tweedie part's draws, then σ_lo's uniform, then one reverse step's noise per run.
        using var replay = new StackedGenerator([9, 10]);
        var tweedie = new TweedieLoss(new NoiseLevelDistribution()).Compute(denoiser, batch, replay).Terms.data<float>();
        var u = replay.rand([]).data<float>();
        var z1 = replay.randn([1, 3, 3]).data<float>();
        var z2 = replay.randn([1, 3, 3]).data<float>();
        const double sigmaMin = 0.002;
        var expected = new double[18];
        for (var i = 0; i < 18; i++)
        {
            var b = i / 9;
            expected[i] = tweedie[i];
            if (sigmaN[b] <= sigmaMin) continue;
            double hi = sigmaN[b];
            var lo = (double)(float)Math.Exp(Math.Log(sigmaMin) + u[b] * (Math.Log(hi) - Math.Log(sigmaMin)));
            var variance = hi * hi - lo * lo;
            double Step(double z) => Y[i] + variance * (Denoise(Y[i], hi) - Y[i]) / (hi * hi) + Math.Sqrt(variance) * z;
            var d0 = Denoise(Y[i], hi);
            var d1 = Denoise(Step(z1[i]), lo);
            var d2 = Denoise(Step(z2[i]), lo);
            expected[i] += weight * (d1 - d0) * (d2 - d0);
        }
        AssertClose(expected, total, 1e-4);
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void Noise_levels_above_sigma_n_follow_the_truncated_log_normal()
    {
        using var scope = torch.NewDisposeScope();
        const int n = 20000;
        using var generator = new StackedGenerator(Enumerable.Range(1, n).Select(i => (ulong)i));
        const double floor = 0.5;
        var sigmas = new NoiseLevelDistribution().SampleAbove(torch.full([n], floor), generator).data<float>();
        Assert.All(sigmas, s => Assert.True(s > floor));
        // ln σ ~ N(-1.2, 1.2²) truncated below at ln 0.5: mean μ + s·φ(α)/(1 − Φ(α)).
        var alpha = (Math.Log(floor) + 1.2) / 1.2;
        var phi = Math.Exp(-alpha * alpha / 2) / Math.Sqrt(2 * Math.PI);
        var tail = 0.5 * Erfc(alpha / Math.Sqrt(2));
        var expectedMean = -1.2 + 1.2 * phi / tail;
        var logs = sigmas.Select(s => Math.Log(s)).ToArray();
        var mean = logs.Average();
        var sd = Math.Sqrt(logs.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        Assert.InRange(mean, expectedMean - 4 * sd / Math.Sqrt(n), expectedMean + 4 * sd / Math.Sqrt(n));
    }

    private static double Erfc(double x)
    {
        // Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7), enough for a 4-standard-error check.
        var t = 1 / (1 + 0.3275911 * Math.Abs(x));
        var y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.Exp(-x * x);
        return x >= 0 ? y : 2 - y;
    }

    [Fact]
    public void Reductions_sum_pixels_per_image_or_average_observed_elements()
    {
        using var scope = torch.NewDisposeScope();
        var terms = new LossTerms(torch.tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, [2, 1, 2, 2]), torch.tensor(new float[] { 1, 1, 0, 1, 1, 0, 1, 1 }, [2, 1, 2, 2]));
        Assert.Equal(36f / 2, DiffusionLoss.Reduce(terms, LossReduction.Sum).item<float>());
        Assert.Equal(36f / 6, DiffusionLoss.Reduce(terms, LossReduction.MeanObserved).item<float>());
    }
}
