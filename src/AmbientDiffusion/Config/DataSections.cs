using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;

namespace AmbientDiffusion.Config;

/// <summary>The clean source and how it is prepared (the options of <c>ambient prepare</c>). Prepared once and cached
/// under runs/data/, keyed by these settings.</summary>
public sealed class DatasetSection
{
    /// <summary>A folder of images, a CelebA folder, an IDX file, or fashion-mnist[:train|:test]; relative to the config file.</summary>
    public string Source { get; set; } = "";

    /// <summary>auto, folder, celeba or idx.</summary>
    public string Format { get; set; } = "auto";

    /// <summary>CelebA split: train, validation or test (empty: all).</summary>
    public string? Partition { get; set; }

    /// <summary>Side of the square images.</summary>
    public int Resolution { get; set; } = 64;

    /// <summary>1 (grayscale) or 3 (RGB); 0 picks 1 for IDX sources and 3 otherwise.</summary>
    public int Channels { get; set; }

    /// <summary>Side of the centred square cut before resizing (0: the largest square).</summary>
    public int Crop { get; set; }

    /// <summary>Training images, a seeded random subset (0: all not held out).</summary>
    public int Count { get; set; }

    /// <summary>Held-out images (disjoint) for the memorization baselines.</summary>
    public int Heldout { get; set; }

    /// <summary>Seed of the subset selection.</summary>
    public ulong Seed { get; set; }

    /// <summary>Skip undecodable images instead of stopping.</summary>
    public bool SkipBad { get; set; }

    internal void Validate()
    {
        ExperimentConfig.Check(!string.IsNullOrWhiteSpace(Source), "dataset.source", Source, "a folder, CelebA folder, IDX file or fashion-mnist[:train|:test]");
        ExperimentConfig.Check(Format is "auto" or "folder" or "celeba" or "idx", "dataset.format", Format, "auto, folder, celeba or idx");
        ExperimentConfig.Check(Partition is null or "" or "train" or "validation" or "test", "dataset.partition", Partition, "train, validation or test");
        ExperimentConfig.Check(Resolution is >= 4 and <= 1024, "dataset.resolution", Resolution, "4 to 1024 pixels");
        ExperimentConfig.Check(Channels is 0 or 1 or 3, "dataset.channels", Channels, "0 (auto), 1 or 3");
        ExperimentConfig.Check(Crop == 0 || Crop >= Resolution, "dataset.crop", Crop, $"0 (largest square) or at least the resolution ({Resolution})");
        ExperimentConfig.Check(Count >= 0, "dataset.count", Count, "0 (all) or a positive number of images");
        ExperimentConfig.Check(Heldout >= 0, "dataset.heldout", Heldout, ">= 0 images");
    }

    /// <summary>The options of <c>prepare</c> for a source of the given kind.</summary>
    public PrepareOptions ToOptions(ImageSource source) =>
        new(Resolution, Channels != 0 ? Channels : source is IdxSource ? 1 : 3, Crop > 0 ? Crop : null, Count > 0 ? Count : null, Heldout, Seed, SkipBad);
}

/// <summary>The corruption, drawn once per image from (seed, index) (ambient-spec §1).</summary>
public sealed class CorruptionSection
{
    /// <summary>none, pixel, box or patch.</summary>
    public string Mask { get; set; } = "pixel";

    /// <summary>Fraction of pixels (pixel, box) or patches (patch) removed.</summary>
    public double P { get; set; }

    /// <summary>Per-channel pixel masks.</summary>
    public bool PerChannel { get; set; }

    /// <summary>Patch side for patch masks.</summary>
    public int PatchSize { get; set; } = 4;

    /// <summary>Additive Gaussian noise σ_n in [-1, 1] units (0: none).</summary>
    public double NoiseSigma { get; set; }

    /// <summary>Fraction of images that receive noise.</summary>
    public double NoiseFraction { get; set; } = 1.0;

    /// <summary>Seed of the corruption.</summary>
    public ulong Seed { get; set; }

    internal void Validate()
    {
        ExperimentConfig.Check(Mask is "none" or "pixel" or "box" or "patch", "corruption.mask", Mask, "none, pixel, box or patch");
        ExperimentConfig.Check(P is >= 0 and < 1, "corruption.p", P, "a fraction in [0, 1)");
        ExperimentConfig.Check(Mask != "none" || P == 0, "corruption.p", P, "0 with mask = none");
        ExperimentConfig.Check(!PerChannel || Mask == "pixel", "corruption.per_channel", PerChannel, "false unless mask = pixel");
        ExperimentConfig.Check(PatchSize is >= 1 and <= 256, "corruption.patch_size", PatchSize, "1 to 256 pixels");
        ExperimentConfig.Check(NoiseSigma is >= 0 and <= 10, "corruption.noise_sigma", NoiseSigma, "a noise level in [0, 10] ([-1, 1] pixel units)");
        ExperimentConfig.Check(NoiseFraction is > 0 and <= 1, "corruption.noise_fraction", NoiseFraction, "a fraction in (0, 1]");
        ExperimentConfig.Check(Mask != "none" || NoiseSigma > 0, "corruption.mask", Mask, "a mask or a noise level: mask = none with noise_sigma = 0 leaves the images clean");
    }

    /// <summary>The operator settings.</summary>
    public CorruptionSpec ToSpec() => new()
    {
        Mask = Mask switch { "none" => MaskKind.None, "box" => MaskKind.Box, "patch" => MaskKind.Patch, _ => MaskKind.Pixel },
        P = P,
        PerChannel = PerChannel,
        PatchSize = PatchSize,
        NoiseSigma = NoiseSigma,
        NoiseFraction = NoiseFraction,
    };
}

/// <summary>Explicit data files (instead of the dataset/corruption sections) and augmentation.</summary>
public sealed class DataSection
{
    /// <summary>A prepared (clean) dataset file, relative to the config file: the source of the corruption and of the
    /// memorization analysis. Filled in with the cached file in a run's resolved config.</summary>
    public string Prepared { get; set; } = "";

    /// <summary>A corrupted dataset file, relative to the config file: what training reads (the clean-data firewall).
    /// Filled in with the cached file in a run's resolved config.</summary>
    public string Corrupted { get; set; } = "";

    /// <summary>Mirror images and masks together at random.</summary>
    public bool Flip { get; set; } = true;
}
