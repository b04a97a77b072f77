using System.Globalization;

namespace AmbientDiffusion.Corruption;

/// <summary>Kinds of mask.</summary>
public enum MaskKind
{
    /// <summary>No pixels removed.</summary>
    None,
    /// <summary><see cref="PixelMask"/>.</summary>
    Pixel,
    /// <summary><see cref="BoxMask"/>.</summary>
    Box,
    /// <summary><see cref="PatchMask"/>.</summary>
    Patch,
}

/// <summary>
/// The corruption as plain settings (the <c>corruption:</c> section of a config and the options of
/// <c>ambient corrupt</c>): a mask and/or Gaussian noise. <see cref="ToOperator"/> validates and builds the operator.
/// </summary>
public sealed record CorruptionSpec
{
    /// <summary>Mask kind.</summary>
    public MaskKind Mask { get; init; } = MaskKind.Pixel;

    /// <summary>Fraction of pixels (pixel, box) or patches (patch) removed.</summary>
    public double P { get; init; }

    /// <summary>Per-channel pixel masks instead of one shared across colours.</summary>
    public bool PerChannel { get; init; }

    /// <summary>Patch side for patch masks.</summary>
    public int PatchSize { get; init; } = 4;

    /// <summary>Gaussian noise level σ_n in [-1, 1] units (0: none).</summary>
    public double NoiseSigma { get; init; }

    /// <summary>Fraction of images that receive noise.</summary>
    public double NoiseFraction { get; init; } = 1.0;

    /// <summary>Builds the operator, with errors naming the offending setting.</summary>
    public CorruptionOperator ToOperator()
    {
        if (Mask == MaskKind.None && P != 0)
            throw new ArgumentException($"corruption.p = {P.ToString(CultureInfo.InvariantCulture)} has no effect with mask = none");
        var parts = new List<CorruptionOperator>();
        switch (Mask)
        {
            case MaskKind.Pixel: parts.Add(new PixelMask(P, PerChannel)); break;
            case MaskKind.Box: parts.Add(new BoxMask(P)); break;
            case MaskKind.Patch: parts.Add(new PatchMask(PatchSize, P)); break;
        }
        if (PerChannel && Mask != MaskKind.Pixel) throw new ArgumentException("corruption.per_channel applies to pixel masks only");
        if (NoiseSigma != 0 || NoiseFraction != 1.0) parts.Add(new GaussianNoise(NoiseSigma, NoiseFraction));
        if (parts.Count == 0) throw new ArgumentException("corruption: mask = none and noise_sigma = 0 leave the images clean; choose a mask or a noise level");
        return parts.Count == 1 ? parts[0] : new CompositeCorruption(parts);
    }

    /// <summary>The settings that describe an operator built by <see cref="ToOperator"/>.</summary>
    public static CorruptionSpec From(CorruptionOperator op)
    {
        var spec = new CorruptionSpec { Mask = MaskKind.None };
        foreach (var part in op is CompositeCorruption composite ? composite.Parts : [op])
        {
            spec = part switch
            {
                PixelMask m => spec with { Mask = MaskKind.Pixel, P = m.P, PerChannel = m.PerChannelMask },
                BoxMask m => spec with { Mask = MaskKind.Box, P = m.P },
                PatchMask m => spec with { Mask = MaskKind.Patch, P = m.P, PatchSize = m.PatchSize },
                GaussianNoise g => spec with { NoiseSigma = g.Sigma, NoiseFraction = g.Fraction },
                _ => throw new NotSupportedException($"no settings form for {part.GetType().Name}"),
            };
        }
        return spec;
    }
}
