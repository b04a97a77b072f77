using AmbientDiffusion.Experiments;
using AmbientDiffusion.Models;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Training;
using Xunit.Abstractions;

namespace AmbientDiffusion.Tests;

/// <summary>
/// The theory on data with a known answer: x ~ N(μ, Σ) as 4×4 one-channel images. For an observed set S and noise σ
/// the clean posterior mean is μ + Σ[:,S](Σ[S,S] + σ²I)⁻¹(x_S − μ_S). Models trained only on corrupted data are compared
/// with it.
/// </summary>
public class GaussianTheoryTests(ITestOutputHelper output)
{
    private const int Side = 4, Dim = Side * Side;

    /// <summary>A smooth covariance (squared-exponential in pixel distance) and a tilted mean, inside [-1, 1].</summary>
    internal static (double[] mu, double[,] sigma) Distribution()
    {
        var mu = new double[Dim];
        var sigma = new double[Dim, Dim];
        for (var i = 0; i < Dim; i++)
        {
            mu[i] = 0.25 * ((i % Side) - 1.5) / 1.5;
            for (var j = 0; j < Dim; j++)
            {
                var (dy, dx) = (i / Side - j / Side, i % Side - j % Side);
                sigma[i, j] = 0.06 * Math.Exp(-(dx * dx + dy * dy) / 4.0) + (i == j ? 0.004 : 0);
            }
        }
        return (mu, sigma);
    }

    internal static double[] Sample(double[] mu, double[,] cholesky, SeededRandom random)
    {
        var z = Enumerable.Range(0, Dim).Select(_ => random.NextGaussian()).ToArray();
        var x = new double[Dim];
        for (var i = 0; i < Dim; i++)
        {
            x[i] = mu[i];
            for (var k = 0; k <= i; k++) x[i] += cholesky[i, k] * z[k];
        }
        return x;
    }

    internal static double[,] Cholesky(double[,] a)
    {
        var n = a.GetLength(0);
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
            {
                var s = a[i, j];
                for (var k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = i == j ? Math.Sqrt(s) : s / l[j, j];
            }
        return l;
    }

    /// <summary>E[x₀ | x_S + σ n_S] for the clean Gaussian, by solving (Σ[S,S] + σ²I) w = x_S − μ_S.</summary>
    internal static double[] PosteriorMean(double[] mu, double[,] sigma, bool[] observed, double[] noisy, double noise)
    {
        var s = Enumerable.Range(0, Dim).Where(i => observed[i]).ToArray();
        var a = new double[s.Length, s.Length];
        for (var i = 0; i < s.Length; i++)
            for (var j = 0; j < s.Length; j++) a[i, j] = sigma[s[i], s[j]] + (i == j ? noise * noise : 0);
        var l = Cholesky(a);
        var b = s.Select(i => noisy[i] - mu[i]).ToArray();
        var y = new double[s.Length];
        for (var i = 0; i < s.Length; i++)
        {
            y[i] = b[i];
            for (var k = 0; k < i; k++) y[i] -= l[i, k] * y[k];
            y[i] /= l[i, i];
        }
        var w = new double[s.Length];
        for (var i = s.Length - 1; i >= 0; i--)
        {
            w[i] = y[i];
            for (var k = i + 1; k < s.Length; k++) w[i] -= l[k, i] * w[k];
            w[i] /= l[i, i];
        }
        var result = (double[])mu.Clone();
        for (var r = 0; r < Dim; r++)
            for (var i = 0; i < s.Length; i++) result[r] += sigma[r, s[i]] * w[i];
        return result;
    }

    /// <summary>Writes a prepared dataset of Gaussian samples (quantised to uint8, step 2/255) and corrupts it.</summary>
    internal static string CorruptedGaussianData(TempDir dir, CorruptionOperator corruption, int count = 4096)
    {
        var (mu, sigma) = Distribution();
        var l = Cholesky(sigma);
        var random = new SeededRandom(11);
        var bytes = new byte[count * Dim];
        for (var n = 0; n < count; n++)
        {
            var x = Sample(mu, l, random);
            for (var i = 0; i < Dim; i++) bytes[n * Dim + i] = (byte)Math.Clamp(Math.Round((x[i] + 1) * 127.5), 0, 255);
        }
        var prepared = dir.File("gaussian.safetensors");
        using (var scope = torch.NewDisposeScope())
            PreparedDataset.Write(prepared, torch.tensor(bytes, [count, 1, Side, Side]), null, new { Source = "gaussian" });
        var corrupted = dir.File("gaussian-corrupted.safetensors");
        using var source = PreparedDataset.Open(prepared);
        DatasetCorruptor.Run(source, corruption, 5, corrupted);
        return corrupted;
    }

    internal static ExperimentConfig SmallConfig(string data, string kind, int steps, int batch = 64) => new()
    {
        Name = kind,
        Seed = 1,
        Device = TestPrecision.Cpu(),
        Data = new DataSection { Corrupted = data, Flip = false },
        Model = new ModelSettings { ModelChannels = 32, ChannelMult = [1], NumBlocks = 1, AttnResolutions = [], Dropout = 0 },
        Loss = new LossSettings { Kind = Enum.Parse<LossKind>(kind, ignoreCase: true), Delta = 0.2 },
        Training = new TrainingSettings
        {
            BatchSize = batch,
            DurationKimg = steps * batch / 1000.0,
            Lr = 2e-3,
            LrWarmupKimg = 0.5,
            EmaHalflifeKimg = 5,
            TickKimg = 1000,
            CheckpointKimg = 1000,
        },
    };

    internal static Trainer Train(TempDir dir, ExperimentConfig config)
    {
        var trainer = ExperimentComposition.StartTrainer(config, Path.Combine(dir.Path, "runs", config.Name));
        for (var s = 0; s < config.Training.DurationKimg * 1000 / config.Training.BatchSize; s++) trainer.TrainStep();
        return trainer;
    }

    /// <summary>
    /// Mean squared distance between a model's denoised output and the analytic clean posterior mean, over test images,
    /// noise levels and (for masked inputs) random masks keeping pixels with probability <paramref name="keep"/>. With
    /// <paramref name="dataNoise"/> &gt; 0 it also returns the distance of the noisy-data posterior (the limit of EDM
    /// trained on the noisy images) to the same target.
    /// </summary>
    internal static (double model, double noisyDataPosterior) PosteriorError(Trainer trainer, double[] noiseLevels, double keep, bool maskInput, double dataNoise = 0)
    {
        var (mu, sigma) = Distribution();
        var l = Cholesky(sigma);
        var random = new SeededRandom(99);
        const int tests = 256;
        double modelTotal = 0, baselineTotal = 0;
        var count = 0;
        using var noGrad = torch.no_grad();
        trainer.Model.eval();
        foreach (var noise in noiseLevels)
        {
            var inputs = new float[tests * Dim];
            var masks = new float[tests * Dim];
            var targets = new double[tests][];
            var baselines = new double[tests][];
            for (var t = 0; t < tests; t++)
            {
                var x0 = Sample(mu, l, random);
                var observed = Enumerable.Range(0, Dim).Select(_ => random.NextDouble() < keep).ToArray();
                if (!observed.Any()) observed[0] = true;
                var noisy = x0.Select(v => v + noise * random.NextGaussian()).ToArray();
                targets[t] = PosteriorMean(mu, sigma, observed, noisy, noise);
                baselines[t] = dataNoise > 0 ? NoisyDataPosteriorMean(mu, sigma, noisy, noise, dataNoise) : targets[t];
                for (var i = 0; i < Dim; i++)
                {
                    masks[t * Dim + i] = observed[i] ? 1 : 0;
                    inputs[t * Dim + i] = observed[i] ? (float)noisy[i] : 0;
                }
            }
            using var scope = torch.NewDisposeScope();
            var x = torch.tensor(inputs, [tests, 1, Side, Side]);
            var s = torch.full([tests], noise);
            var denoised = (maskInput ? trainer.Model.forward(x, s, torch.tensor(masks, [tests, 1, Side, Side])) : trainer.Model.forward(x, s)).data<float>();
            for (var t = 0; t < tests; t++)
                for (var i = 0; i < Dim; i++)
                {
                    var m = denoised[t * Dim + i] - targets[t][i];
                    var b = baselines[t][i] - targets[t][i];
                    modelTotal += m * m;
                    baselineTotal += b * b;
                    count++;
                }
        }
        trainer.Model.train();
        return (modelTotal / count, baselineTotal / count);
    }

    /// <summary>What a model of the noisy data converges to: the posterior mean of N(μ, Σ + σ_n²I) at noise σ, i.e. the
    /// noisy distribution mistaken for the clean one.</summary>
    private static double[] NoisyDataPosteriorMean(double[] mu, double[,] sigma, double[] noisy, double noise, double dataNoise)
    {
        var inflated = (double[,])sigma.Clone();
        for (var i = 0; i < Dim; i++) inflated[i, i] += dataNoise * dataNoise;
        return PosteriorMean(mu, inflated, Enumerable.Repeat(true, Dim).ToArray(), noisy, noise);
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void Ambient_learns_the_clean_posterior_from_masked_data_and_naive_does_not()
    {
        using var dir = new TempDir();
        var data = CorruptedGaussianData(dir, new PixelMask(0.5));
        var sigmas = new[] { 0.2, 0.5, 1.0 };
        // Evaluation masks keep pixels with probability (1-p)(1-δ), as the fixed-mask sampler does.
        const double keep = 0.5 * 0.8;
        using var ambient = Train(dir, SmallConfig(data, "ambient", steps: 1500));
        var (ambientError, _) = PosteriorError(ambient, sigmas, keep, maskInput: true);
        using var naive = Train(dir, SmallConfig(data, "naive", steps: 1500));
        var (naiveError, _) = PosteriorError(naive, sigmas, keep, maskInput: false);
        output.WriteLine($"mean squared distance to the clean posterior mean: ambient {ambientError:E3}, naive {naiveError:E3}, ratio {naiveError / ambientError:F1}");
        Assert.True(naiveError > 4 * ambientError, $"ambient {ambientError:E3} should be several times closer than naive {naiveError:E3}");
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void Tweedie_learns_the_clean_posterior_above_the_data_noise_level()
    {
        using var dir = new TempDir();
        const double dataNoise = 0.3;
        var data = CorruptedGaussianData(dir, new GaussianNoise(dataNoise));
        using var tweedie = Train(dir, SmallConfig(data, "tweedie", steps: 1500));
        var (error, noisyPosteriorError) = PosteriorError(tweedie, [0.5, 0.8, 1.2], keep: 1.0, maskInput: false, dataNoise: dataNoise);
        output.WriteLine($"mean squared distance to the clean posterior mean: tweedie {error:E3}; the noisy-data posterior (what EDM on this data converges to) {noisyPosteriorError:E3}, ratio {noisyPosteriorError / error:F1}");
        Assert.True(noisyPosteriorError > 3 * error, $"tweedie {error:E3} should be several times closer than the noisy-data posterior {noisyPosteriorError:E3}");
    }
}
