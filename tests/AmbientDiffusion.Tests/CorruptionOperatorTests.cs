using AmbientDiffusion.Corruption;

namespace AmbientDiffusion.Tests;

public class CorruptionOperatorTests
{
    private static CorruptionSample Apply(CorruptionOperator op, int index, int channels = 1, int size = 32, ulong seed = 7)
    {
        var sample = new CorruptionSample(new float[channels * size * size], channels, size, size, op.PerChannel ? channels : 1);
        op.Apply(sample, CorruptionOperator.RandomFor(seed, index));
        return sample;
    }

    private static double RemovedFraction(byte[] mask) => mask.Count(m => m == 0) / (double)mask.Length;

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    [InlineData(0.6)]
    [InlineData(0.9)]
    [InlineData(0.99)]
    public void Pixel_mask_removes_p_within_four_standard_errors(double p)
    {
        const int images = 50;
        long removed = 0, total = 0;
        for (var i = 0; i < images; i++)
        {
            var sample = Apply(new PixelMask(p), i);
            removed += sample.Mask.Count(m => m == 0);
            total += sample.Mask.Length;
        }
        var standardError = Math.Sqrt(p * (1 - p) / total);
        Assert.InRange(removed / (double)total, p - 4 * standardError, p + 4 * standardError);
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.9)]
    public void Per_channel_masks_differ_between_channels_and_keep_the_rate(double p)
    {
        var sample = Apply(new PixelMask(p, perChannel: true), 3, channels: 3);
        Assert.Equal(3 * 32 * 32, sample.Mask.Length);
        var planes = Enumerable.Range(0, 3).Select(c => sample.Mask.AsSpan(c * 1024, 1024).ToArray()).ToArray();
        Assert.NotEqual(planes[0], planes[1]);
        var standardError = Math.Sqrt(p * (1 - p) / sample.Mask.Length);
        Assert.InRange(RemovedFraction(sample.Mask), p - 4 * standardError, p + 4 * standardError);
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.6)]
    [InlineData(0.9)]
    public void Patch_mask_removes_whole_patches_at_rate_p(double p)
    {
        const int k = 4, size = 32, images = 40;
        long removedPatches = 0, patches = 0;
        for (var i = 0; i < images; i++)
        {
            var sample = Apply(new PatchMask(k, p), i, size: size);
            for (var top = 0; top < size; top += k)
                for (var left = 0; left < size; left += k)
                {
                    var values = new HashSet<byte>();
                    for (var y = top; y < top + k; y++)
                        for (var x = left; x < left + k; x++) values.Add(sample.Mask[y * size + x]);
                    Assert.Single(values);
                    patches++;
                    if (values.Contains(0)) removedPatches++;
                }
        }
        var standardError = Math.Sqrt(p * (1 - p) / patches);
        Assert.InRange(removedPatches / (double)patches, p - 4 * standardError, p + 4 * standardError);
    }

    [Theory]
    [InlineData(0.1, 32)]
    [InlineData(0.25, 28)]
    [InlineData(0.5, 64)]
    [InlineData(0.9, 17)]
    public void Box_mask_has_area_p_within_one_row_and_lies_inside(double p, int size)
    {
        var positions = new HashSet<(int, int)>();
        for (var i = 0; i < 30; i++)
        {
            var sample = Apply(new BoxMask(p), i, size: size);
            var removed = Enumerable.Range(0, size * size).Where(j => sample.Mask[j] == 0).Select(j => (y: j / size, x: j % size)).ToList();
            Assert.InRange(removed.Count, p * size * size - size, p * size * size + size);
            var (top, bottom) = (removed.Min(r => r.y), removed.Max(r => r.y));
            var (left, right) = (removed.Min(r => r.x), removed.Max(r => r.x));
            // One filled square, entirely inside the image.
            Assert.Equal(bottom - top, right - left);
            Assert.Equal((bottom - top + 1) * (right - left + 1), removed.Count);
            Assert.InRange(top, 0, size - 1);
            Assert.InRange(bottom, 0, size - 1);
            positions.Add((top, left));
        }
        Assert.True(positions.Count > 5 || p > 0.85, "box positions should vary between images");
    }

    [Fact]
    public void Gaussian_noise_has_the_requested_mean_and_deviation()
    {
        const double sigma = 0.2;
        var values = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var sample = Apply(new GaussianNoise(sigma), i, size: 32);
            Assert.Equal(sigma, sample.NoiseSigma, 12);
            values.AddRange(sample.Pixels.Select(v => (double)v));
        }
        var mean = values.Average();
        var std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        // n = 20480: the standard error of the mean is 0.0014, of the standard deviation about 0.001.
        Assert.InRange(mean, -4 * sigma / Math.Sqrt(values.Count), 4 * sigma / Math.Sqrt(values.Count));
        Assert.InRange(std, sigma * 0.98, sigma * 1.02);
    }

    [Fact]
    public void Noise_fraction_selects_that_fraction_of_images()
    {
        const int images = 2000;
        var noisy = Enumerable.Range(0, images).Count(i => Apply(new GaussianNoise(0.1, fraction: 0.3), i, size: 2).NoiseSigma > 0);
        var standardError = Math.Sqrt(0.3 * 0.7 / images);
        Assert.InRange(noisy / (double)images, 0.3 - 4 * standardError, 0.3 + 4 * standardError);
    }

    [Fact]
    public void Corruption_depends_only_on_seed_and_index()
    {
        var op = new CompositeCorruption([new PixelMask(0.5), new GaussianNoise(0.1)]);
        var a = Apply(op, 11);
        var b = Apply(op, 11);
        Assert.Equal(a.Mask, b.Mask);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Mask, Apply(op, 12).Mask);
        Assert.NotEqual(a.Mask, Apply(op, 11, seed: 8).Mask);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Probabilities_outside_the_unit_interval_are_rejected_with_the_value(double p)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new PixelMask(p));
        Assert.Contains("p = ", e.Message, StringComparison.Ordinal);
        Assert.Contains("[0, 1)", e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => new BoxMask(p));
        Assert.ThrowsAny<ArgumentException>(() => new PatchMask(4, p));
    }

    [Fact]
    public void Negative_sigma_is_rejected_with_the_value()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new GaussianNoise(-0.5));
        Assert.Contains("sigma = -0.5", e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => new GaussianNoise(0.1, fraction: 0));
    }

    [Fact]
    public void Delta_zero_for_masked_ambient_training_is_rejected_with_an_explanation()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new FurtherCorruption(0.0, FurtherCorruptionMode.Redraw));
        Assert.Contains("delta = 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("learns nothing", e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => new FurtherCorruption(1.0));
        Assert.Equal(0.1, new FurtherCorruption(0.1, FurtherCorruptionMode.Redraw).Delta);
    }

    [Fact]
    public void Further_corruption_only_removes_pixels_and_fixed_mode_repeats_per_image()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3);
        var masks = torch.ones([4, 1, 16, 16]).mul_(torch.rand([4, 1, 16, 16], generator: generator).ge(0.5).to(ScalarType.Float32));
        var redraw = new FurtherCorruption(0.3);
        using var rows = new StackedGenerator([11, 12, 13, 14]);
        var further = redraw.Apply(masks, rows, 0, [0, 1, 2, 3]);
        // Ã <= A everywhere, and about delta of the kept pixels go.
        Assert.Equal(0, further.gt(masks).sum().item<long>());
        var keptBefore = masks.sum().item<double>();
        var keptAfter = further.sum().item<double>();
        Assert.InRange(1 - keptAfter / keptBefore, 0.3 - 4 * Math.Sqrt(0.21 / keptBefore), 0.3 + 4 * Math.Sqrt(0.21 / keptBefore));
        var fixedMode = new FurtherCorruption(0.3, FurtherCorruptionMode.Fixed);
        using var pair = new StackedGenerator([21, 22]);
        var first = fixedMode.Apply(torch.ones([2, 1, 8, 8]), pair, 5, [7, 9]);
        var again = fixedMode.Apply(torch.ones([2, 1, 8, 8]), pair, 5, [9, 7]);
        Assert.Equal(first[0].data<float>(), again[1].data<float>());
        Assert.NotEqual(first[0].data<float>(), first[1].data<float>());
    }

    [Fact]
    public void Spec_round_trips_and_names_bad_settings()
    {
        var spec = new CorruptionSpec { Mask = MaskKind.Patch, P = 0.5, PatchSize = 8, NoiseSigma = 0.1 };
        Assert.Equal(spec, CorruptionSpec.From(spec.ToOperator()));
        Assert.Contains("per_channel", Assert.ThrowsAny<ArgumentException>(() => new CorruptionSpec { Mask = MaskKind.Box, P = 0.2, PerChannel = true }.ToOperator()).Message, StringComparison.Ordinal);
        Assert.Contains("clean", Assert.ThrowsAny<ArgumentException>(() => new CorruptionSpec { Mask = MaskKind.None }.ToOperator()).Message, StringComparison.Ordinal);
        Assert.Contains("patch_size = 0", Assert.ThrowsAny<ArgumentException>(() => new CorruptionSpec { Mask = MaskKind.Patch, P = 0.2, PatchSize = 0 }.ToOperator()).Message, StringComparison.Ordinal);
    }
}
