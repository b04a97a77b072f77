using System.IO.Compression;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Tests;

/// <summary>
/// A network whose preconditioned output is the exact posterior mean of independent Gaussian pixels N(mu, s²):
/// D(x, σ) = mu + s²/(s² + σ²)·(x − mu), and under a mask M, mu at removed pixels. It inverts EDM's scalings, so the
/// samplers can be checked against closed forms.
/// </summary>
internal sealed class GaussianPosteriorNetwork(int channels, int resolution, double mu, double s, int maskChannels = 0) : NoiseConditionedNetwork
{
    private const double SigmaData = 0.5;
    public override int ImageChannels => channels;
    public override int MaskChannels => maskChannels;
    public override int Resolution => resolution;
    public List<float[]> MasksSeen { get; } = [];

    public override Tensor forward(Tensor input, Tensor noiseLabels)
    {
        using var scope = torch.NewDisposeScope();
        var sigma = (noiseLabels * 4).exp().reshape(-1, 1, 1, 1);
        var variance = sigma.square() + SigmaData * SigmaData;
        var x = input.narrow(1, 0, channels) * variance.sqrt();
        var denoised = mu + s * s / (sigma.square() + s * s) * (x - mu);
        if (maskChannels > 0)
        {
            var mask = input.narrow(1, channels, maskChannels);
            MasksSeen.Add(mask.data<float>());
            denoised = mask * denoised + (1 - mask) * mu;
        }
        var cSkip = SigmaData * SigmaData / variance;
        var cOut = sigma * SigmaData * variance.rsqrt();
        return scope.MoveToOuter((denoised - cSkip * x) / cOut);
    }
}

public class SamplerTests
{
    private static (double mean, double std) Moments(float[] values)
    {
        var mean = values.Average(v => (double)v);
        return (mean, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)));
    }

    [Fact]
    public void Heun_sampler_follows_the_discrete_heun_recursion_exactly()
    {
        // For an affine denoiser every Heun step is affine in x, so the sampler must reproduce this scalar recursion
        // applied to the seed's initial noise (drawn the documented way: randn float64 from Generator(seed), times σ_max).
        const double mu = 0.2, s = 0.3;
        using var model = new EdmPreconditioner(new GaussianPosteriorNetwork(1, 4, mu, s));
        var sampler = new EdmSampler(model, new SamplerOptions(), SamplingMode.Plain);
        Assert.Equal(19, sampler.Schedule.Count);
        Assert.Equal(80, sampler.Schedule[0], 12);
        Assert.Equal(0, sampler.Schedule[^1]);
        double D(double x, double sigma) => mu + s * s / (s * s + sigma * sigma) * (x - mu);
        using var scope = torch.NewDisposeScope();
        var samples = sampler.Sample([7, 8]).data<float>();
        for (var k = 0; k < 2; k++)
        {
            using var generator = new Generator((ulong)(7 + k));
            var start = torch.randn([1, 4, 4], ScalarType.Float64, generator: generator).data<double>();
            for (var i = 0; i < 16; i++)
            {
                var x = start[i] * 80;
                for (var j = 0; j + 1 < sampler.Schedule.Count; j++)
                {
                    var (t, next) = (sampler.Schedule[j], sampler.Schedule[j + 1]);
                    var slope = (x - D(x, t)) / t;
                    var euler = x + (next - t) * slope;
                    x = next > 0 ? x + (next - t) * 0.5 * (slope + (euler - D(euler, next)) / next) : euler;
                }
                Assert.Equal(Math.Clamp(x, -1, 1), samples[k * 16 + i], 4);
            }
        }
    }

    [Fact]
    public void Heun_sampler_converges_to_the_gaussian_it_was_given()
    {
        // With enough steps the probability-flow ODE of N(mu, s²) is solved exactly (18 steps give std 0.3195 for s = 0.3:
        // EDM's schedule is tuned for images, whose σ_data is 0.5).
        const double mu = 0.2, s = 0.3;
        using var model = new EdmPreconditioner(new GaussianPosteriorNetwork(1, 4, mu, s));
        var sampler = new EdmSampler(model, new SamplerOptions { Steps = 200 }, SamplingMode.Plain);
        using var scope = torch.NewDisposeScope();
        var (mean, std) = Moments(sampler.Sample(Enumerable.Range(0, 256).Select(i => (ulong)i).ToList()).data<float>());
        // 4096 values: standard error of the mean 0.005, of the std about 0.0035.
        Assert.InRange(mean, mu - 0.02, mu + 0.02);
        Assert.InRange(std, s - 0.012, s + 0.012);
    }

    [Fact]
    public void Churn_keeps_the_distribution()
    {
        const double mu = -0.1, s = 0.25;
        using var model = new EdmPreconditioner(new GaussianPosteriorNetwork(1, 4, mu, s));
        var sampler = new EdmSampler(model, new SamplerOptions { Steps = 200, Churn = 40, ChurnMin = 0.05, ChurnMax = 50 }, SamplingMode.Plain);
        using var scope = torch.NewDisposeScope();
        var (mean, std) = Moments(sampler.Sample(Enumerable.Range(0, 256).Select(i => (ulong)i).ToList()).data<float>());
        Assert.InRange(mean, mu - 0.02, mu + 0.02);
        Assert.InRange(std, s - 0.012, s + 0.012);
    }

    [Fact]
    public void Early_stop_returns_one_tweedie_jump_from_sigma_n()
    {
        // Sampling stops at σ_n, where x ~ N(mu, s² + σ_n²); D(x, σ_n) then has variance s⁴/(s² + σ_n²).
        const double mu = 0.1, s = 0.4, sigmaN = 0.3;
        using var model = new EdmPreconditioner(new GaussianPosteriorNetwork(1, 4, mu, s));
        var sampler = new EdmSampler(model, new SamplerOptions(), new EarlyStopSampling(sigmaN));
        Assert.Equal(sigmaN, sampler.Schedule[^1], 12);
        using var scope = torch.NewDisposeScope();
        var (mean, std) = Moments(sampler.Sample(Enumerable.Range(0, 256).Select(i => (ulong)i).ToList()).data<float>());
        var expected = s * s / Math.Sqrt(s * s + sigmaN * sigmaN);
        Assert.InRange(mean, mu - 0.02, mu + 0.02);
        Assert.InRange(std, expected - 0.015, expected + 0.015);
    }

    [Fact]
    public void Fixed_mask_sampler_keeps_one_mask_per_sample_with_the_training_keep_rate()
    {
        const double p = 0.6, delta = 0.1;
        var network = new GaussianPosteriorNetwork(1, 16, 0, 0.5, maskChannels: 1);
        using var model = new EdmPreconditioner(network, perPixelHidden: false);
        var mode = new FixedMaskSampling(new PixelMask(p), new FurtherCorruption(delta), MaskChannels: 1);
        var sampler = new EdmSampler(model, new SamplerOptions { Steps = 4 }, mode);
        var seeds = Enumerable.Range(0, 64).Select(i => (ulong)i).ToList();
        using var scope = torch.NewDisposeScope();
        var masks = sampler.DrawMasks(seeds).data<float>();
        // (1 − p)(1 − δ) = 0.36 over 16384 pixels: standard error 0.0037.
        Assert.InRange(masks.Average(), 0.36 - 0.015, 0.36 + 0.015);
        sampler.Sample(seeds);
        Assert.Equal(2 * 4 - 1, network.MasksSeen.Count);
        Assert.All(network.MasksSeen, seen => Assert.Equal(masks, seen));
        // The mask is the sample's: another batch composition gives the same one.
        Assert.Equal(masks.AsSpan(16 * 256, 256).ToArray(), sampler.DrawMasks([16]).data<float>());
    }

    [Fact]
    public void A_sample_depends_on_its_seed_only()
    {
        using var init = new Generator(1);
        using var dropout = new Generator(2);
        var options = new UNetOptions(8, 1, 1, 16, [1, 2], 1, [4], 0, false);
        using var model = new EdmPreconditioner(new DdpmUNet(options, init, dropout));
        model.eval();
        var sampler = new EdmSampler(model, new SamplerOptions { Steps = 5, Churn = 5 }, new FixedMaskSampling(new BoxMask(0.25), new FurtherCorruption(0.1), MaskChannels: 1));
        using var scope = torch.NewDisposeScope();
        var together = sampler.Sample([3, 9, 4]);
        var alone = sampler.Sample([9]);
        var reordered = sampler.Sample([4, 9]);
        var expected = together.narrow(0, 1, 1);
        Assert.True((expected - alone).abs().max().item<float>() < 1e-5f);
        Assert.True((expected - reordered.narrow(0, 1, 1)).abs().max().item<float>() < 1e-5f);
        Assert.True((together.narrow(0, 0, 1) - expected).abs().max().item<float>() > 0.01f);
        Assert.True(together.abs().max().item<float>() <= 1f);
    }

    [Fact]
    public void Sampler_refuses_a_mode_that_does_not_fit_the_model()
    {
        using var masked = new EdmPreconditioner(new GaussianPosteriorNetwork(1, 4, 0, 0.5, maskChannels: 1), perPixelHidden: false);
        using var plain = new EdmPreconditioner(new GaussianPosteriorNetwork(1, 4, 0, 0.5));
        Assert.Contains("fixed-mask", Assert.Throws<ArgumentException>(() => new EdmSampler(masked, new SamplerOptions(), SamplingMode.Plain)).Message);
        Assert.Contains("trained with masks", Assert.Throws<ArgumentException>(() => new EdmSampler(plain, new SamplerOptions(), new FixedMaskSampling(new PixelMask(0.5), new FurtherCorruption(0.1), MaskChannels: 1))).Message);
        Assert.Contains("steps = 1", Assert.ThrowsAny<ArgumentException>(() => new EdmSampler(plain, new SamplerOptions { Steps = 1 }, SamplingMode.Plain)).Message);
    }

    [Theory]
    [InlineData("0-3", new ulong[] { 0, 1, 2, 3 })]
    [InlineData("5", new ulong[] { 5 })]
    [InlineData("1,4-5, 9", new ulong[] { 1, 4, 5, 9 })]
    public void Seed_lists_parse_like_edm(string text, ulong[] expected) => Assert.Equal(expected, SampleSet.ParseSeeds(text));

    [Theory]
    [InlineData("")]
    [InlineData("3-1")]
    [InlineData("a-b")]
    [InlineData("-4")]
    [InlineData("1,1")]
    public void Bad_seed_lists_are_refused(string text) => Assert.Throws<ArgumentException>(() => SampleSet.ParseSeeds(text));

    [Fact]
    public void Sample_set_writes_safetensors_npz_grid_and_pngs_deterministically()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var images = torch.randint(0, 256, [5, 3, 6, 7], ScalarType.Byte, generator: new Generator(4));
        ulong[] seeds = [10, 11, 12, 13, 14];
        var meta = new Dictionary<string, string> { ["checkpoint"] = "x" };
        SampleSet.Write(dir.File("a"), images, seeds, meta, singlePngs: true);
        SampleSet.Write(dir.File("b"), images, seeds, meta);
        foreach (var name in new[] { SampleSet.TensorFile, SampleSet.NumpyFile, SampleSet.GridFile })
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), name)), File.ReadAllBytes(Path.Combine(dir.File("b"), name)));
        Assert.Equal(5, Directory.GetFiles(Path.Combine(dir.File("a"), "png"), "*.png").Length);

        using (var file = SampleSet.Open(Path.Combine(dir.File("a"), SampleSet.TensorFile)))
        {
            Assert.Equal(images.data<byte>(), file.GetTensor(SampleSet.SamplesKey).data<byte>());
            Assert.Equal(seeds.Select(s => (long)s).ToArray(), file.GetTensor(SampleSet.SeedsKey).data<long>());
        }

        // The .npz holds arr_0 as N,H,W,C uint8 in NumPy's format 1.0 (header padded to 64 bytes).
        using var zip = ZipFile.OpenRead(Path.Combine(dir.File("a"), SampleSet.NumpyFile));
        using var entry = zip.GetEntry("arr_0.npy")!.Open();
        using var memory = new MemoryStream();
        entry.CopyTo(memory);
        var npy = memory.ToArray();
        Assert.Equal("\u0093NUMPY", System.Text.Encoding.Latin1.GetString(npy, 0, 6));
        var headerLength = BitConverter.ToUInt16(npy, 8);
        Assert.Equal(0, (10 + headerLength) % 64);
        var header = System.Text.Encoding.ASCII.GetString(npy, 10, headerLength);
        Assert.Contains("'descr': '|u1'", header);
        Assert.Contains("'shape': (5, 6, 7, 3)", header);
        Assert.Equal(images.permute(0, 2, 3, 1).contiguous().data<byte>(), npy[(10 + headerLength)..]);
    }
}
