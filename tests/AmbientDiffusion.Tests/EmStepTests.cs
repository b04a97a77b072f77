using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Em;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>The pieces of an EM round: the Gaussian fit with missing data against NumPy, and the sharded E-step.</summary>
public class EmStepTests
{
    private static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "em");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_Gaussian_fit_with_missing_values_and_noise_equals_the_NumPy_reference(bool full)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureFolder, "gaussian_em_reference.json")));
        var root = json.RootElement;
        double[] Doubles(string key) => root.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var (n, d) = (root.GetProperty("n").GetInt32(), root.GetProperty("d").GetInt32());
        var data = new GaussianObservations(n, d, Doubles("values"), root.GetProperty("observed").EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray(), Doubles("noise_sigma"));
        var model = GaussianFit.Fit(data, root.GetProperty("iterations").GetInt32(), full);
        var key = full ? "full" : "diagonal";
        var (mean, covariance) = (Doubles(key + "_mean"), Doubles(key + "_covariance"));
        // Double precision both sides; the C# sums the posterior covariances as NΣ − ΣPΣ, NumPy one by one: 1e-10 covers
        // the different rounding of five iterations.
        for (var k = 0; k < d; k++) Assert.Equal(mean[k], model.Mean[k], 1e-10);
        for (var i = 0; i < d; i++)
            for (var j = 0; j < d; j++) Assert.Equal(covariance[i * d + j], model.At(i, j), 1e-10);
    }

    [Fact]
    public void The_dense_Cholesky_inverse_times_the_matrix_is_the_identity()
    {
        const int n = 7;
        var random = new SeededRandom(3);
        var b = Enumerable.Range(0, n * n).Select(_ => random.NextGaussian()).ToArray();
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                a[i * n + j] = Enumerable.Range(0, n).Sum(k => b[i * n + k] * b[j * n + k]) + (i == j ? 0.5 : 0);
        var l = (double[])a.Clone();
        DenseCholesky.Factor(l, n);
        var inverse = DenseCholesky.Inverse(l, n);
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                Assert.Equal(i == j ? 1 : 0, Enumerable.Range(0, n).Sum(k => a[i * n + k] * inverse[k * n + j]), 1e-10);
    }

    /// <summary>A Gaussian posterior of 4×4 Gaussian images, fitted to the observations in two iterations.</summary>
    private static GaussianPosterior Posterior(string corrupted)
    {
        using var data = CorruptedDataset.Open(corrupted);
        return new GaussianPosterior(GaussianFit.Fit(GaussianObservations.Read(data), 2, full: true));
    }

    private static byte[] Samples(string folder, int shards)
    {
        using var scope = torch.NewDisposeScope();
        return EStep.Read(folder, shards).contiguous().data<byte>();
    }

    [Fact]
    public void An_interrupted_E_step_resumes_to_the_same_samples_bit_for_bit()
    {
        using var dir = new TempDir();
        var corrupted = GaussianTheoryTests.CorruptedGaussianData(dir, new PixelMask(0.5), count: 100);
        using var posterior = Posterior(corrupted);
        var plan = new EStepPlan(SamplesPerObservation: 2, BatchSize: 7, ShardSize: 16, Seed: 4, Round: 1);
        Assert.True(EStep.Run(corrupted, posterior, plan, dir.File("straight")));
        // Interrupted after three shards (a kill between shards), then by cancellation, then finished.
        Assert.False(EStep.Run(corrupted, posterior, plan, dir.File("resumed"), shardLimit: 3));
        Assert.Equal(3, Directory.GetFiles(dir.File("resumed"), "shard-*").Length);
        using (var cancel = new CancellationTokenSource())
        {
            cancel.Cancel();
            Assert.False(EStep.Run(corrupted, posterior, plan, dir.File("resumed"), cancel: cancel.Token));
        }
        Assert.True(EStep.Run(corrupted, posterior, plan, dir.File("resumed")));
        var shards = EStep.Shards(100, 16);
        Assert.Equal(Samples(dir.File("straight"), shards), Samples(dir.File("resumed"), shards));
    }

    [Fact]
    public void Shares_of_the_E_step_together_draw_one_process_s_samples_bit_for_bit_each_writing_only_its_shards()
    {
        using var dir = new TempDir();
        var corrupted = GaussianTheoryTests.CorruptedGaussianData(dir, new PixelMask(0.5), count: 100);
        using var posterior = Posterior(corrupted);
        var plan = new EStepPlan(SamplesPerObservation: 2, BatchSize: 7, ShardSize: 16, Seed: 4, Round: 1);
        var shards = EStep.Shards(100, 16); // 7: shards 0, 3, 6 to rank 0 of 3, 1 and 4 to rank 1, 2 and 5 to rank 2
        Assert.True(EStep.Run(corrupted, posterior, plan, dir.File("whole")));
        var shared = dir.File("shared");
        var progress = new List<EStepProgress>();
        Assert.True(EStep.Run(corrupted, posterior, plan, shared, new ProgressRelay<EStepProgress>(progress.Add), share: new EStepShare(1, 3)));
        // Progress counts the share's 32 observations, not the 100.
        Assert.Equal(new EStepProgress(32, 32), progress[^1]);
        Assert.All(progress, p => Assert.Equal(32, p.Total));
        Assert.Equal(["shard-00001.safetensors", "shard-00004.safetensors"], Directory.GetFiles(shared).Select(Path.GetFileName).Order());
        foreach (var rank in new[] { 2, 0 }) Assert.True(EStep.Run(corrupted, posterior, plan, shared, share: new EStepShare(rank, 3)));
        Assert.Equal(Samples(dir.File("whole"), shards), Samples(shared, shards));
        using (var file = SafeTensors.Open(Path.Combine(shared, EStep.ShardFile(4))))
            Assert.Equal("1 of 3", file.Metadata[EStep.RankKey]);
        using (var file = SafeTensors.Open(Path.Combine(dir.File("whole"), EStep.ShardFile(4))))
            Assert.False(file.Metadata.ContainsKey(EStep.RankKey));
    }

    [Fact]
    public void E_step_samples_keep_the_observed_pixels_of_noiseless_observations_and_differ_between_rounds()
    {
        using var dir = new TempDir();
        var corrupted = GaussianTheoryTests.CorruptedGaussianData(dir, new PixelMask(0.5), count: 64);
        using var posterior = Posterior(corrupted);
        var samples = new List<byte[]>();
        foreach (var round in new[] { 0, 1 })
        {
            var folder = dir.File($"round{round}");
            Assert.True(EStep.Run(corrupted, posterior, new EStepPlan(1, 16, 32, 4, round), folder));
            samples.Add(Samples(folder, 2));
        }
        using var data = CorruptedDataset.Open(corrupted);
        var (observation, mask) = (new float[16], new float[16]);
        var (observed, missing, changed) = (0, 0, 0);
        for (var i = 0; i < data.Count; i++)
        {
            data.ReadSample(i, observation, mask);
            for (var k = 0; k < 16; k++)
            {
                var value = samples[0][i * 16 + k];
                if (mask[k] > 0)
                {
                    Assert.Equal((byte)Math.Round((observation[k] + 1) * 127.5), value);
                    Assert.Equal(value, samples[1][i * 16 + k]);
                    observed++;
                }
                else
                {
                    missing++;
                    if (value != samples[1][i * 16 + k]) changed++;
                }
            }
        }
        Assert.True(observed > 0 && missing > 0);
        // Removed pixels are drawn afresh each round (seeds keyed by round): nearly all of them differ.
        Assert.True(changed > missing * 0.9, $"{changed} of {missing} removed pixels changed between rounds");
    }

    [Fact]
    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    public void E_step_samples_of_noisy_observations_stay_within_the_noise_of_the_observed_pixels()
    {
        using var dir = new TempDir();
        const double sigma = 0.1;
        var corrupted = GaussianTheoryTests.CorruptedGaussianData(dir, new CompositeCorruption([new PixelMask(0.5), new GaussianNoise(sigma)]), count: 200);
        using var posterior = Posterior(corrupted);
        Assert.True(EStep.Run(corrupted, posterior, new EStepPlan(1, 50, 100, 4, 0), dir.File("samples")));
        var samples = Samples(dir.File("samples"), 2);
        using var data = CorruptedDataset.Open(corrupted);
        Assert.Equal(sigma, data.NoiseSigma(0), 1e-6);
        var (observation, mask) = (new float[16], new float[16]);
        var (sum, count) = (0.0, 0);
        for (var i = 0; i < data.Count; i++)
        {
            data.ReadSample(i, observation, mask);
            for (var k = 0; k < 16; k++)
                if (mask[k] > 0)
                {
                    var difference = samples[i * 16 + k] / 127.5 - 1 - observation[k];
                    (sum, count) = (sum + difference * difference, count + 1);
                }
        }
        var rms = Math.Sqrt(sum / count);
        // A posterior sample's observed values differ from y by less than the noise: E|x − y|² = σ² − (posterior
        // shrinkage) < σ². About 1600 values: the RMS sits within a few percent of its expectation, so σ (plus half a
        // grey level of rounding) is a bound with room; and it is not the observation itself (> σ/4).
        Assert.InRange(rms, sigma / 4, sigma + 1 / 255.0);
    }
}
