using AmbientDiffusion.Common;

namespace AmbientDiffusion.Memorization;

/// <summary>The analysis settings (everything but the file paths); recorded in report.json. The only place their
/// defaults and bounds live: the <c>memorization:</c> section and <c>ambient memorization</c> take them from here.</summary>
public sealed record MemorizationSettings
{
    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Side of the downsampled space (area average); 0 leaves that space out.</summary>
    public int Downsample { get; init; } = 16;

    /// <summary>Neighbours averaged by the Carlini et al. extraction test (all training images when fewer).</summary>
    public int CarliniNeighbors { get; init; } = 50;

    /// <summary>Factor of the Carlini test: d1 &lt; alpha * mean distance to the nearest <see cref="CarliniNeighbors"/>.</summary>
    public double CarliniAlpha { get; init; } = 0.5;

    /// <summary>Baseline queries at most per baseline (a seeded subset beyond); 0 runs no baselines.</summary>
    public int BaselineQueries { get; init; } = 2000;

    /// <summary>Seed of the baseline subsets.</summary>
    public ulong BaselineSeed { get; init; }

    /// <summary>Bins of every histogram.</summary>
    public int HistogramBins { get; init; } = 40;

    /// <summary>Most memorized samples shown in report.html and neighbors.png.</summary>
    public int WorstCount { get; init; } = 16;

    /// <summary>Nearest-neighbour chunk sizes and candidate margin.</summary>
    public KnnOptions Knn { get; init; } = new();

    /// <summary>Confidence intervals of every rate the reports state.</summary>
    public BootstrapSettings Bootstrap { get; init; } = new();

    /// <summary>The membership-inference attacks (run by <c>--membership</c> or <c>memorization.membership.enabled</c>).</summary>
    public MembershipSettings Membership { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        DeviceSettings.CheckDevice("device", Device);
        SettingException.Check(Downsample is >= 0 and <= 1024, "downsample", Downsample, "a side of 1 to 1024 pixels, or 0 to leave the downsampled space out");
        SettingException.Check(CarliniNeighbors is >= 2 and <= 10000, "carlini_neighbors", CarliniNeighbors, "2 to 10000 neighbours");
        SettingException.Check(CarliniAlpha is > 0 and <= 1, "carlini_alpha", CarliniAlpha, "a factor in (0, 1]");
        SettingException.Check(BaselineQueries >= 0, "baseline_queries", BaselineQueries, ">= 0 (0 disables the baselines)");
        SettingException.Check(HistogramBins is >= 2 and <= 1000, "histogram_bins", HistogramBins, "2 to 1000 bins");
        SettingException.Check(WorstCount is >= 0 and <= 1024, "worst_count", WorstCount, "0 to 1024 samples");
        SettingException.Nested("knn", Knn.Validate);
        Bootstrap.Validate();
        SettingException.Nested("membership", Membership.Validate);
    }
}

/// <summary>What <see cref="MemorizationAnalyzer.Run"/> reads and writes, and how.</summary>
public sealed record MemorizationOptions
{
    /// <summary>Generated samples: a safetensors file with uint8 [N, C, H, W] <c>samples</c>, or a prepared dataset's <c>images</c>.</summary>
    public required string SamplesPath { get; init; }

    /// <summary>The clean training set: a prepared dataset (from <c>ambient prepare</c>).</summary>
    public required string TrainPath { get; init; }

    /// <summary>
    /// Held-out images: a samples file (<c>samples</c>) or a prepared dataset (its <c>images</c>, not its held-out split);
    /// null uses the training file's <c>heldout_images</c> when present.
    /// </summary>
    public string? HeldOutPath { get; init; }

    /// <summary>External features of the samples (float32 [N, D] <c>features</c>); needs <see cref="FeaturesTrainPath"/>.</summary>
    public string? FeaturesSamplesPath { get; init; }

    /// <summary>External features of the training images.</summary>
    public string? FeaturesTrainPath { get; init; }

    /// <summary>External features of the held-out images (the held-out baseline of that space is skipped without them).</summary>
    public string? FeaturesHeldOutPath { get; init; }

    /// <summary>Feature spaces computed from the images by a network (the in-product classifier, TorchScript
    /// extractors), each compared by top-1 cosine like external features; built by the caller from feature specs.</summary>
    public IReadOnlyList<ExtractedSpace> Extracted { get; init; } = [];

    /// <summary>Further self-contained XHTML sections shown in report.html after the closest pairs (the pipeline passes
    /// the sample-quality metrics of each feature space).</summary>
    public IReadOnlyList<string> HtmlSections { get; init; } = [];

    /// <summary>The report directory (report.json, report.html, neighbors.png).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Analysis settings.</summary>
    public MemorizationSettings Settings { get; init; } = new();
}

/// <summary>Progress of an analysis: a stage name and (done, total) within it.</summary>
/// <param name="Stage">What runs (e.g. "pixels: samples").</param>
/// <param name="Done">Steps done over all stages.</param>
/// <param name="Total">Steps in all.</param>
public sealed record MemorizationProgress(string Stage, int Done, int Total);
