using AmbientDiffusion.Common;

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
/// <c>ambient corrupt</c>): a mask and/or Gaussian noise. Its defaults and bounds live here only;
/// <see cref="ToOperator"/> validates and builds the operator.
/// </summary>
public record CorruptionSpec
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

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Enum.IsDefined(Mask), "mask", Mask, Yaml.Choices<MaskKind>());
        SettingException.Check(P is >= 0 and < 1, "p", P, "a fraction in [0, 1)");
        SettingException.Check(Mask != MaskKind.None || P == 0, "p", P, "0 with mask = none");
        SettingException.Check(!PerChannel || Mask == MaskKind.Pixel, "per_channel", PerChannel, "false unless mask = pixel");
        SettingException.Check(PatchSize is >= 1 and <= 256, "patch_size", PatchSize, "1 to 256 pixels");
        SettingException.Check(NoiseSigma is >= 0 and <= 10, "noise_sigma", NoiseSigma, "a noise level in [0, 10] ([-1, 1] pixel units)");
        SettingException.Check(NoiseFraction is > 0 and <= 1, "noise_fraction", NoiseFraction, "a fraction in (0, 1]");
        SettingException.Check(Mask != MaskKind.None || NoiseSigma > 0, "mask", Mask, "a mask or a noise level: mask = none with noise_sigma = 0 leaves the images clean");
    }

    /// <summary>The plain settings of this spec (a copy of exactly these properties, whatever derived record holds them).</summary>
    public CorruptionSpec ToSpec() => new() { Mask = Mask, P = P, PerChannel = PerChannel, PatchSize = PatchSize, NoiseSigma = NoiseSigma, NoiseFraction = NoiseFraction };

    /// <summary>Builds the operator, with errors naming the offending setting.</summary>
    public CorruptionOperator ToOperator()
    {
        Validate();
        var parts = new List<CorruptionOperator>();
        switch (Mask)
        {
            case MaskKind.Pixel: parts.Add(new PixelMask(P, PerChannel)); break;
            case MaskKind.Box: parts.Add(new BoxMask(P)); break;
            case MaskKind.Patch: parts.Add(new PatchMask(PatchSize, P)); break;
        }
        if (NoiseSigma != 0 || NoiseFraction != 1.0) parts.Add(new GaussianNoise(NoiseSigma, NoiseFraction));
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
