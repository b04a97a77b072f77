namespace AmbientDiffusion.Config;

/// <summary>The memorization analysis of a run's samples against its clean training set (ambient-spec §6), written to
/// runs/&lt;name&gt;/report. The only step besides <c>corrupt</c> that reads clean images.</summary>
public sealed class MemorizationSection
{
    /// <summary>Run the analysis after sampling.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Side of the downsampled pixel space.</summary>
    public int Downsample { get; set; } = 16;

    /// <summary>Queries per baseline (train→train with self excluded, held-out→train), a seeded subset; 0 disables them.</summary>
    public int BaselineQueries { get; set; } = 2000;

    /// <summary>Neighbours averaged by the Carlini et al. extraction test.</summary>
    public int CarliniNeighbors { get; set; } = 50;

    /// <summary>Factor of the Carlini test: d1 &lt; alpha · mean distance to the nearest carlini_neighbors.</summary>
    public double CarliniAlpha { get; set; } = 0.5;

    /// <summary>Bins of every histogram.</summary>
    public int HistogramBins { get; set; } = 40;

    /// <summary>Most memorized samples shown beside their nearest training images in the report.</summary>
    public int WorstCount { get; set; } = 16;

    /// <summary>External features (safetensors, float32 N×D tensor <c>features</c>) of the samples, e.g. DINOv2; with
    /// <see cref="FeaturesTrain"/>. Relative to the config file.</summary>
    public string FeaturesSamples { get; set; } = "";

    /// <summary>External features of the training images, in the prepared dataset's order.</summary>
    public string FeaturesTrain { get; set; } = "";

    /// <summary>External features of the held-out images (optional).</summary>
    public string FeaturesHeldout { get; set; } = "";

    internal void Validate()
    {
        ExperimentConfig.Check(Downsample is >= 1 and <= 1024, "memorization.downsample", Downsample, "1 to 1024 pixels");
        ExperimentConfig.Check(BaselineQueries >= 0, "memorization.baseline_queries", BaselineQueries, ">= 0 (0 disables the baselines)");
        ExperimentConfig.Check(CarliniNeighbors is >= 2 and <= 10000, "memorization.carlini_neighbors", CarliniNeighbors, "2 to 10000 neighbours");
        ExperimentConfig.Check(CarliniAlpha is > 0 and <= 1, "memorization.carlini_alpha", CarliniAlpha, "a factor in (0, 1]");
        ExperimentConfig.Check(HistogramBins is >= 2 and <= 1000, "memorization.histogram_bins", HistogramBins, "2 to 1000 bins");
        ExperimentConfig.Check(WorstCount is >= 0 and <= 1024, "memorization.worst_count", WorstCount, "0 to 1024 samples");
        ExperimentConfig.Check(string.IsNullOrEmpty(FeaturesSamples) == string.IsNullOrEmpty(FeaturesTrain), "memorization.features_train", FeaturesTrain,
            "set together with memorization.features_samples (external features need both)");
        ExperimentConfig.Check(string.IsNullOrEmpty(FeaturesHeldout) || !string.IsNullOrEmpty(FeaturesTrain), "memorization.features_heldout", FeaturesHeldout,
            "empty unless features_samples and features_train are set");
    }
}
