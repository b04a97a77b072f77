using AmbientDiffusion.Common;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Evaluation.Metrics;

namespace AmbientDiffusion.Config;

/// <summary>
/// Sample quality in the field's own terms after sampling: FD, KID, precision, recall, density and coverage of the
/// samples against the held-out images, each beside its floor, in every configured feature space; the same spaces
/// also enter the memorization analysis (top-1 cosine with the papers' thresholds). A thin mapping onto
/// <see cref="EvaluationOptions"/>, which owns the metric settings' defaults and bounds.
/// </summary>
public sealed class EvaluationSection
{
    private static readonly EvaluationOptions Defaults = new() { SamplesPaths = [], ReferencePath = "" };

    /// <summary>Evaluate after sampling (needs held-out images in the prepared dataset).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The in-product classifier whose features are the default space: a checkpoint path (from
    /// <c>ambient classifier train</c>), <c>auto</c> (train one on the prepared dataset when it has labels, cached in
    /// runs/data) or empty (none: pixels are the default space).</summary>
    public string Classifier { get; set; } = "auto";

    /// <summary>Further spaces, as <c>KIND:FILE</c> (<c>inception:…</c>, <c>dinov2:…</c>, <c>sscd:…</c>, <c>torchscript:…</c>) or <c>pixels</c>.</summary>
    public List<string> Features { get; set; } = [];

#pragma warning disable CS1591 // documented on EvaluationOptions
    public int K { get; set; } = Defaults.K;
    public int KidSubsets { get; set; } = Defaults.KidSubsets;
    public int KidSubsetSize { get; set; } = Defaults.KidMaxSubsetSize;
#pragma warning restore CS1591

    /// <summary>The parsed <see cref="Features"/>.</summary>
    public IReadOnlyList<FeatureSpec> FeatureSpecs() => Features.Select(FeatureSpec.Parse).ToList();

    internal void Validate()
    {
        try
        {
            FeatureSpecs();
        }
        catch (ArgumentException e)
        {
            throw new SettingException("features", Features, e.Message);
        }
        (Defaults with { K = K, KidSubsets = KidSubsets, KidMaxSubsetSize = KidSubsetSize }).ValidateSettings();
    }
}
