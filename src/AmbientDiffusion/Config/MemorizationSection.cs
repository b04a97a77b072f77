using AmbientDiffusion.Common;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Config;

/// <summary>The memorization analysis of a run's samples against its clean training set (ambient-spec §6), written to
/// runs/&lt;name&gt;/report. The only step besides <c>corrupt</c> that reads clean images. A thin mapping onto
/// <see cref="MemorizationSettings"/>, which owns the defaults and bounds of the analysis keys.</summary>
public sealed class MemorizationSection
{
    private static readonly MemorizationSettings Defaults = new();

    /// <summary>Run the analysis after sampling.</summary>
    public bool Enabled { get; set; } = true;

#pragma warning disable CS1591 // documented on MemorizationSettings
    public int Downsample { get; set; } = Defaults.Downsample;
    public int BaselineQueries { get; set; } = Defaults.BaselineQueries;
    public int CarliniNeighbors { get; set; } = Defaults.CarliniNeighbors;
    public double CarliniAlpha { get; set; } = Defaults.CarliniAlpha;
    public int HistogramBins { get; set; } = Defaults.HistogramBins;
    public int WorstCount { get; set; } = Defaults.WorstCount;
    public int BootstrapResamples { get; set; } = Defaults.Bootstrap.Resamples;
    public double ConfidenceLevel { get; set; } = Defaults.Bootstrap.Level;
#pragma warning restore CS1591

    /// <summary>The membership-inference attacks (<c>membership.enabled</c> runs them after the copy analysis; the
    /// other keys are <see cref="MembershipSettings"/>'s).</summary>
    public MembershipSection Membership { get; set; } = new();

    /// <summary>External features (safetensors, float32 N×D tensor <c>features</c>) of the samples, e.g. DINOv2; with
    /// <see cref="FeaturesTrain"/>. Relative to the config file.</summary>
    public string FeaturesSamples { get; set; } = "";

    /// <summary>External features of the training images, in the prepared dataset's order.</summary>
    public string FeaturesTrain { get; set; } = "";

    /// <summary>External features of the held-out images (optional).</summary>
    public string FeaturesHeldout { get; set; } = "";

    /// <summary>The analysis settings of this section, run on <paramref name="device"/> with baselines drawn from
    /// <paramref name="baselineSeed"/> (the experiment's device and seed).</summary>
    public MemorizationSettings ToSettings(string device, ulong baselineSeed) => new()
    {
        Device = device,
        Downsample = Downsample,
        CarliniNeighbors = CarliniNeighbors,
        CarliniAlpha = CarliniAlpha,
        BaselineQueries = BaselineQueries,
        BaselineSeed = baselineSeed,
        HistogramBins = HistogramBins,
        WorstCount = WorstCount,
        Bootstrap = new BootstrapSettings { Resamples = BootstrapResamples, Level = ConfidenceLevel, Seed = baselineSeed },
        Membership = Membership.ToSettings(),
    };

    internal void Validate()
    {
        ToSettings(Defaults.Device, 0).Validate();
        SettingException.Check(string.IsNullOrEmpty(FeaturesSamples) == string.IsNullOrEmpty(FeaturesTrain), "features_train", FeaturesTrain,
            "set together with features_samples (external features need both)");
        SettingException.Check(string.IsNullOrEmpty(FeaturesHeldout) || !string.IsNullOrEmpty(FeaturesTrain), "features_heldout", FeaturesHeldout,
            "empty unless features_samples and features_train are set");
    }
}
