using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Loops;
using AmbientDiffusion.Models;

namespace AmbientDiffusion.Tests;

/// <summary>A fixed network (F = 0.5·input) that keeps the noise levels it was called at (σ = exp(4·c_noise)).</summary>
internal sealed class NoiseLevelRecorder(int resolution) : NoiseConditionedNetwork
{
    public List<double> Sigmas { get; } = [];

    public override int ImageChannels => 1;

    public override int MaskChannels => 0;

    public override int Resolution => resolution;

    public override Tensor forward(Tensor input, Tensor noiseLabels)
    {
        Sigmas.AddRange(noiseLabels.data<float>().Select(c => Math.Exp(4.0 * c)));
        return input * 0.5;
    }
}

/// <summary>The ambient arm: synthetic images only above σ_tn·√(4/3), and σ_tn by the first-crossing rule.</summary>
public class LoopAmbientArmTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void A_synthetic_image_is_never_used_at_or_below_its_floor_while_real_images_train_at_every_sigma()
    {
        using var scope = torch.NewDisposeScope();
        const int batch = 32, rounds = 150;
        // Even rows are synthetic, with σ_tn from 0.05 to 1.6; odd rows are clean real images.
        var sigmaN = Enumerable.Range(0, batch).Select(i => i % 2 == 0 ? 0.05f * (1 + i / 2) : 0f).ToArray();
        var recorder = new NoiseLevelRecorder(4);
        using var denoiser = new EdmPreconditioner(recorder);
        var loss = new TweedieLoss(new NoiseLevelDistribution(), floorFactor: LoopSettings.SigmaFloorFactor);
        var observations = torch.randn([batch, 1, 4, 4]) * 0.5;
        var data = new CorruptedBatch(observations, torch.ones([batch, 1, 4, 4]), torch.tensor(sigmaN), Enumerable.Range(0, batch).ToArray());
        for (var round = 0; round < rounds; round++)
        {
            using var step = torch.NewDisposeScope();
            using var random = new StackedGenerator(Enumerable.Range(0, batch).Select(i => (ulong)(round * batch + i)));
            loss.Compute(denoiser, data, random);
        }
        Assert.Equal(batch * rounds, recorder.Sigmas.Count);
        var uses = recorder.Sigmas.Select((sigma, n) => (Row: n % batch, Sigma: sigma)).ToList();
        var synthetic = uses.Where(u => sigmaN[u.Row] > 0).ToList();
        var floor = Math.Sqrt(4.0 / 3);
        // float32 c_noise = ln σ / 4 round-trips σ to about 1e-6 relative.
        Assert.All(synthetic, u => Assert.True(u.Sigma > sigmaN[u.Row] * floor * (1 - 1e-5), $"row {u.Row}: σ = {u.Sigma} at σ_tn = {sigmaN[u.Row]}"));
        // The floor binds (many draws land just above it), and real images go below every synthetic floor.
        Assert.Contains(synthetic, u => u.Sigma < sigmaN[u.Row] * floor * 1.1);
        var real = uses.Where(u => sigmaN[u.Row] == 0).Select(u => u.Sigma).ToList();
        Assert.Equal(batch * rounds / 2, real.Count);
        Assert.True(real.Count(s => s < 0.05 * floor) > real.Count / 20, "real images train at low σ too");
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void Sigma_tn_is_the_first_grid_level_where_the_classifier_can_no_longer_tell_the_sets_apart()
    {
        using var scope = torch.NewDisposeScope();
        // Real pixels ~ N(0, s²) and synthetic ~ N(μ, s²) in 16 dimensions: the Bayes classifier's log-odds for a
        // synthetic image x at noise σ are μᵀ(x − μ/2)/V, V = s² + σ², so the typical image (μᵀ(x₀ − μ) = 0) has mean
        // probability E_z sigmoid(a + b·z) with a = ‖μ‖²/(2V), b = σ‖μ‖/V.
        const int d = 16, n = 2000;
        const double s = 0.1, mu = 0.1;
        using var generator = new Generator(5);
        var real = torch.randn([n, d], generator: generator) * s;
        var synthetic = torch.randn([n, d], generator: generator) * s + mu;
        var options = new SigmaTnEstimatorOptions { Seed = 3 };
        var estimate = SigmaTnEstimator.Estimate(real, synthetic, options);

        var norm2 = mu * mu * d;
        double TypicalProbability(double sigma)
        {
            var v = s * s + sigma * sigma;
            var (a, b) = (norm2 / (2 * v), sigma * Math.Sqrt(norm2) / v);
            // E over z ~ N(0, 1) by the midpoint rule on [-8, 8].
            var sum = 0.0;
            for (var i = 0; i < 4000; i++)
            {
                var z = -8 + (i + 0.5) * 16 / 4000.0;
                sum += Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI) * (16 / 4000.0) / (1 + Math.Exp(-(a + b * z)));
            }
            return sum;
        }
        var grid = options.Grid;
        var expected = grid.Select((sigma, i) => (sigma, i)).First(g => TypicalProbability(g.sigma) <= 0.5 + options.Margin).i;
        var median = estimate.PerImage.Order().ElementAt(n / 2);
        var found = grid.Select(g => (float)g).ToList().IndexOf(median);
        output.WriteLine($"median σ_tn at grid index {found} (expected {expected} ± 1); accuracy at the lowest σ {estimate.Accuracy[0]:0.###} (needs 0.9), at the highest {estimate.Accuracy[^1]:0.###} (needs 0.4 to 0.6)");
        Assert.True(Math.Abs(found - expected) <= 1 && expected is >= 3 && expected <= grid.Count - 3,
            $"median σ_tn {median} (grid index {found}), expected grid index {expected} (σ = {grid[expected]}); accuracy {string.Join(", ", estimate.Accuracy.Select(a => a.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)))}");
        // The classifier tells the sets apart at low σ and not at the top of the grid.
        Assert.True(estimate.Accuracy[0] > 0.9, $"accuracy at σ = {grid[0]}: {estimate.Accuracy[0]}");
        Assert.InRange(estimate.Accuracy[^1], 0.4, 0.6);

        // Indistinguishable sets: most images get the smallest level (a classifier fitted to chance still wobbles around
        // 0.5, so a few cross the margin a little later), none gets a large one.
        var same = SigmaTnEstimator.Estimate(real, torch.randn([n, d], generator: generator) * s, options);
        Assert.All(same.Accuracy, a => Assert.InRange(a, 0.45, 0.55));
        Assert.True(same.PerImage.Count(v => v == (float)grid[0]) > 0.75 * n && same.PerImage.Max() <= 0.3f, $"{same.PerImage.Count(v => v == (float)grid[0])} of {n} at the smallest level; levels {string.Join(", ", same.PerImage.GroupBy(v => v).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"))}; accuracy {string.Join(", ", same.Accuracy.Select(a => a.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)))}");
    }
}
