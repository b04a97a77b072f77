using AmbientDiffusion.Common;
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

    /// <summary>CelebA attributes that label the images (1 to 8 names from list_attr_celeba.txt; k names give 2^k
    /// classes); unset keeps the source's own labels (IDX label files, class sub-folders) or none. Null when unset, so
    /// the data cache's key of every config without it stays what it was.</summary>
    public List<string>? CelebaAttributes { get; set; }

    internal void Validate()
    {
        SettingException.Check(!string.IsNullOrWhiteSpace(Source), "source", Source, "a folder, CelebA folder, IDX file or fashion-mnist[:train|:test]");
        SettingException.Check(Format is "auto" or "folder" or "celeba" or "idx", "format", Format, "auto, folder, celeba or idx");
        SettingException.Check(Partition is null or "" or "train" or "validation" or "test", "partition", Partition, "train, validation or test");
        SettingException.Check(Channels is 0 or 1 or 3, "channels", Channels, "0 (auto), 1 or 3");
        SettingException.Check(Crop == 0 || Crop >= Resolution, "crop", Crop, $"0 (largest square) or at least the resolution ({Resolution})");
        SettingException.Check(Count >= 0, "count", Count, "0 (all) or a positive number of images");
        // The remaining bounds are the preparer's own.
        Options(Channels != 0 ? Channels : 1).Validate();
    }

    /// <summary>The options of <c>prepare</c> for a source of the given kind.</summary>
    public PrepareOptions ToOptions(ImageSource source) => Options(Channels != 0 ? Channels : source is IdxSource ? 1 : 3);

    private PrepareOptions Options(int channels) => new(Resolution, channels, Crop > 0 ? Crop : null, Count > 0 ? Count : null, Heldout, Seed, SkipBad)
    {
        CelebAAttributes = CelebaAttributes,
    };
}

/// <summary>The corruption, drawn once per image from (seed, index) (ambient-spec §1): the operator's settings
/// (<see cref="CorruptionSpec"/>, which owns their defaults and bounds) and the seed.</summary>
public sealed record CorruptionSection : CorruptionSpec
{
    /// <summary>Seed of the corruption.</summary>
    public ulong Seed { get; init; }
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
