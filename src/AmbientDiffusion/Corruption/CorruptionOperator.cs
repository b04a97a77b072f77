using System.Globalization;
using AmbientDiffusion.Common;

namespace AmbientDiffusion.Corruption;

/// <summary>
/// A corruption drawn once per training image from its own generator, keyed by (dataset seed, image index): the
/// same image is always corrupted the same way, so repeated epochs never reveal the clean pixels (ambient-spec §1).
/// </summary>
public abstract record CorruptionOperator
{
    /// <summary>Corrupts <paramref name="sample"/> in place, drawing only from <paramref name="random"/>.</summary>
    public abstract void Apply(CorruptionSample sample, SeededRandom random);

    /// <summary>Whether the operator removes pixels.</summary>
    public abstract bool RemovesPixels { get; }

    /// <summary>Whether the operator adds noise.</summary>
    public virtual bool AddsNoise => false;

    /// <summary>Whether masks are drawn per colour channel (then the artifact stores C mask channels).</summary>
    public virtual bool PerChannel => false;

    /// <summary>A compact, human-readable spec, e.g. "pixel(p=0.6)".</summary>
    public abstract string Describe();

    /// <summary>The corruption for one image: a fresh generator keyed by (seed, index).</summary>
    public static SeededRandom RandomFor(ulong seed, long index) => RandomStreams.For(RandomStream.Corruption, seed, (ulong)index);

    internal static double CheckProbability(double p, string name) =>
        p is >= 0 and < 1 ? p : throw new ArgumentOutOfRangeException(name, p, $"{name} = {p.ToString(CultureInfo.InvariantCulture)}: expected a probability in [0, 1)");

    internal static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}

/// <summary>
/// Random inpainting: each pixel is removed independently with probability <see cref="P"/>, A[h,w] ~ Bernoulli(1-p),
/// shared across colour channels (or drawn per channel).
/// </summary>
public sealed record PixelMask : CorruptionOperator
{
    /// <summary>Creates the operator; p must lie in [0, 1).</summary>
    public PixelMask(double p, bool perChannel = false)
    {
        P = CheckProbability(p, "p");
        PerChannelMask = perChannel;
    }

    /// <summary>Fraction of pixels removed, in expectation.</summary>
    public double P { get; }

    /// <summary>Whether each colour channel gets its own mask.</summary>
    public bool PerChannelMask { get; }

    /// <inheritdoc />
    public override bool RemovesPixels => P > 0;

    /// <inheritdoc />
    public override bool PerChannel => PerChannelMask;

    /// <inheritdoc />
    public override void Apply(CorruptionSample sample, SeededRandom random)
    {
        var planes = PerChannelMask ? sample.Channels : 1;
        for (var c = 0; c < planes; c++)
            for (var y = 0; y < sample.Height; y++)
                for (var x = 0; x < sample.Width; x++)
                {
                    if (!random.NextBernoulli(P)) continue;
                    if (PerChannelMask) sample.RemovePixel(c, y, x);
                    else sample.RemovePixel(y, x);
                }
    }

    /// <inheritdoc />
    public override string Describe() => $"pixel(p={Format(P)}{(PerChannelMask ? ", per_channel" : "")})";
}

/// <summary>
/// One axis-aligned square of area fraction <see cref="P"/> removed, placed uniformly at random entirely inside the
/// image. Its side is round(sqrt(p·H·W)), so the area matches p·H·W to within one row of pixels.
/// </summary>
public sealed record BoxMask : CorruptionOperator
{
    /// <summary>Creates the operator; p must lie in [0, 1).</summary>
    public BoxMask(double p) => P = CheckProbability(p, "p");

    /// <summary>Fraction of the image area removed.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override bool RemovesPixels => P > 0;

    /// <summary>Side of the square for an image of the given size.</summary>
    public int Side(int height, int width) => (int)Math.Min(Math.Min(height, width), Math.Round(Math.Sqrt(P * height * width), MidpointRounding.AwayFromZero));

    /// <inheritdoc />
    public override void Apply(CorruptionSample sample, SeededRandom random)
    {
        var side = Side(sample.Height, sample.Width);
        var top = random.NextInt(sample.Height - side + 1);
        var left = random.NextInt(sample.Width - side + 1);
        for (var y = top; y < top + side; y++)
            for (var x = left; x < left + side; x++) sample.RemovePixel(y, x);
    }

    /// <inheritdoc />
    public override string Describe() => $"box(p={Format(P)})";
}

/// <summary>The image tiled into k×k patches (partial at the right and bottom edges), each removed with probability p.</summary>
public sealed record PatchMask : CorruptionOperator
{
    /// <summary>Creates the operator; p must lie in [0, 1), the patch size must be positive.</summary>
    public PatchMask(int patchSize, double p)
    {
        PatchSize = patchSize >= 1 ? patchSize : throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, $"patch_size = {patchSize}: expected a positive number of pixels");
        P = CheckProbability(p, "p");
    }

    /// <summary>Patch side k.</summary>
    public int PatchSize { get; }

    /// <summary>Probability that a patch is removed.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override bool RemovesPixels => P > 0;

    /// <inheritdoc />
    public override void Apply(CorruptionSample sample, SeededRandom random)
    {
        for (var top = 0; top < sample.Height; top += PatchSize)
            for (var left = 0; left < sample.Width; left += PatchSize)
            {
                if (!random.NextBernoulli(P)) continue;
                for (var y = top; y < Math.Min(top + PatchSize, sample.Height); y++)
                    for (var x = left; x < Math.Min(left + PatchSize, sample.Width); x++) sample.RemovePixel(y, x);
            }
    }

    /// <inheritdoc />
    public override string Describe() => $"patch(k={PatchSize}, p={Format(P)})";
}

/// <summary>
/// Additive Gaussian noise y = x + σ_n·z, z ~ N(0, I), fixed per image, in [-1, 1] units (σ_n = 0.2 is about 14 dB
/// SNR). With <see cref="Fraction"/> &lt; 1 only that fraction of images (decided per image) is noisy.
/// </summary>
public sealed record GaussianNoise : CorruptionOperator
{
    /// <summary>Creates the operator; σ must be non-negative and the fraction in (0, 1].</summary>
    public GaussianNoise(double sigma, double fraction = 1.0)
    {
        Sigma = sigma >= 0 && double.IsFinite(sigma) ? sigma : throw new ArgumentOutOfRangeException(nameof(sigma), sigma, $"sigma = {sigma.ToString(CultureInfo.InvariantCulture)}: expected a finite noise level >= 0");
        Fraction = fraction is > 0 and <= 1 ? fraction : throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"noise_fraction = {fraction.ToString(CultureInfo.InvariantCulture)}: expected a fraction in (0, 1]");
    }

    /// <summary>Noise standard deviation in [-1, 1] units.</summary>
    public double Sigma { get; }

    /// <summary>Fraction of images that receive noise.</summary>
    public double Fraction { get; }

    /// <inheritdoc />
    public override bool RemovesPixels => false;

    /// <inheritdoc />
    public override bool AddsNoise => Sigma > 0;

    /// <inheritdoc />
    public override void Apply(CorruptionSample sample, SeededRandom random)
    {
        // Always draw the decision, so that the noise stream does not depend on the fraction.
        var noisy = random.NextDouble() < Fraction;
        if (!noisy || Sigma == 0) return;
        var pixels = sample.Pixels;
        for (var i = 0; i < pixels.Length; i++) pixels[i] += (float)(Sigma * random.NextGaussian());
        sample.NoiseSigma = Math.Sqrt(sample.NoiseSigma * sample.NoiseSigma + Sigma * Sigma);
    }

    /// <inheritdoc />
    public override string Describe() => Fraction < 1 ? $"noise(sigma={Format(Sigma)}, fraction={Format(Fraction)})" : $"noise(sigma={Format(Sigma)})";
}

/// <summary>Several corruptions applied in order (e.g. a mask and noise); masks intersect, noise variances add.</summary>
public sealed record CompositeCorruption : CorruptionOperator
{
    /// <summary>Creates the composition of at least one operator.</summary>
    public CompositeCorruption(IReadOnlyList<CorruptionOperator> parts)
    {
        Parts = parts.Count > 0 ? parts.ToArray() : throw new ArgumentException("a composite corruption needs at least one part", nameof(parts));
    }

    /// <summary>The operators, in application order.</summary>
    public IReadOnlyList<CorruptionOperator> Parts { get; }

    /// <inheritdoc />
    public override bool RemovesPixels => Parts.Any(p => p.RemovesPixels);

    /// <inheritdoc />
    public override bool AddsNoise => Parts.Any(p => p.AddsNoise);

    /// <inheritdoc />
    public override bool PerChannel => Parts.Any(p => p.PerChannel);

    /// <inheritdoc />
    public override void Apply(CorruptionSample sample, SeededRandom random)
    {
        foreach (var part in Parts) part.Apply(sample, random);
    }

    /// <inheritdoc />
    public override string Describe() => string.Join(" + ", Parts.Select(p => p.Describe()));
}
