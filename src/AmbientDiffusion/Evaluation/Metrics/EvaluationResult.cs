using System.Text.Json.Serialization;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Evaluation.Metrics;

/// <summary>One metric over every sample set, beside its floor (the same metric between two disjoint real sets).</summary>
/// <param name="Value">The reported value: the mean over the sample sets (the one set's value when there is one).</param>
/// <param name="Min">Smallest value over the sample sets (EDM reports the minimum FID over its seed sets).</param>
/// <param name="Mean">Mean over the sample sets.</param>
/// <param name="Values">Value of each sample set, in the order given.</param>
/// <param name="Stds">KID only: the standard deviation over subsets of each sample set.</param>
/// <param name="Floor">The metric between the floor set and the reference set: what samples from the data distribution
/// itself score at this sample size.</param>
/// <param name="FloorStd">KID only: the floor's standard deviation over subsets.</param>
/// <param name="N">Rows per sample set (the smallest, when the sets differ).</param>
/// <param name="FloorN">Rows of the floor set.</param>
/// <param name="ReferenceN">Rows of the reference set the samples are compared with (the whole reference set).</param>
/// <param name="FloorReferenceN">Rows of the real set the floor set is compared with: the other half of the reference
/// set when the floor splits it, the whole reference set when the floor is a second real set (0 in metrics.json
/// files written before the samples were measured against the whole reference).</param>
public sealed record MetricSummary(double Value, double Min, double Mean, IReadOnlyList<double> Values, IReadOnlyList<double>? Stds,
    double Floor, double? FloorStd, int N, int FloorN, int ReferenceN, int FloorReferenceN)
{
    /// <summary>The summary of per-set values against a floor.</summary>
    public static MetricSummary Of(IReadOnlyList<double> values, double floor, int n, int floorN, int referenceN, int floorReferenceN,
        IReadOnlyList<double>? stds = null, double? floorStd = null)
    {
        if (values.Count == 0) throw new ArgumentException("a metric summary needs at least one sample set");
        var mean = values.Average();
        return new MetricSummary(mean, values.Min(), mean, values, stds, floor, floorStd, n, floorN, referenceN, floorReferenceN);
    }

    /// <summary>The sizes in words: "N vs reference N images (floor: floor N vs floor reference N)".</summary>
    [JsonIgnore]
    public string Sizes => $"{N} vs {ReferenceN} images (floor: {FloorN} vs {FloorReferenceN} real images)";
}

/// <summary>One evaluated sample set (a seed set, in EDM's terms).</summary>
/// <param name="Source">Its file.</param>
/// <param name="Seeds">The seeds its images were generated from, as ranges ("0-49999"), or a note that the file has none.</param>
/// <param name="Count">Images in it.</param>
public sealed record SampleSetInfo(InputFile Source, string Seeds, int Count);

/// <summary>How the floor was made.</summary>
/// <param name="Method"><c>split</c> (two disjoint halves of the reference file) or <c>second_set</c> (a given second real set).</param>
/// <param name="Source">The second real set, for <c>second_set</c>.</param>
/// <param name="Count">Rows of the floor set.</param>
/// <param name="Description">The choice in words, as shown in the report.</param>
public sealed record FloorInfo(string Method, InputFile? Source, int Count, string Description)
{
    /// <summary>Rows of the real set the floor set is compared with (0 in files written before it was recorded).</summary>
    public int ReferenceCount { get; init; }
}

/// <summary>
/// Everything <c>ambient evaluate</c> measured: FD, KID, precision, recall, density and coverage of each sample set
/// against the reference set, each beside its floor, in one feature space, with the inputs, seeds and settings that
/// reproduce it. Serialized as metrics.json.
/// </summary>
/// <param name="Format">Format tag of metrics.json.</param>
/// <param name="Version">Tool and libtorch versions.</param>
/// <param name="FeatureSpace">The feature space (<see cref="Features.FeatureSpec"/> text form).</param>
/// <param name="FeatureDimension">Features per image.</param>
/// <param name="Seed">Seed of the reference split and the KID subsets.</param>
/// <param name="K">Neighbours of the precision/recall/density/coverage balls.</param>
/// <param name="KidSubsets">KID subsets per pair.</param>
/// <param name="KidSubsetSize">KID rows per subset for the samples (min(max subset size, N, reference rows)).</param>
/// <param name="KidFloorSubsetSize">KID rows per subset for the floor.</param>
/// <param name="Reference">The reference file.</param>
/// <param name="ReferenceSplit"><c>images</c> or <c>heldout</c>: which images of the reference file were used.</param>
/// <param name="Floor">How the floor set was made.</param>
/// <param name="SampleSets">The sample sets, in the order given.</param>
/// <param name="Fd">Fréchet distance.</param>
/// <param name="Kid">Kernel Inception Distance (unbiased MMD², cubic kernel), in the feature space named.</param>
/// <param name="Precision">Precision.</param>
/// <param name="Recall">Recall.</param>
/// <param name="Density">Density.</param>
/// <param name="Coverage">Coverage.</param>
/// <param name="Notes">Caveats of this evaluation (small sets, unequal sizes).</param>
public sealed record EvaluationResult(string Format, string Version, string FeatureSpace, long FeatureDimension, ulong Seed, int K,
    int KidSubsets, int KidSubsetSize, int KidFloorSubsetSize, InputFile Reference, string ReferenceSplit, FloorInfo Floor,
    IReadOnlyList<SampleSetInfo> SampleSets, MetricSummary Fd, MetricSummary Kid, MetricSummary Precision, MetricSummary Recall,
    MetricSummary Density, MetricSummary Coverage, IReadOnlyList<string> Notes)
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string FormatName = "ambient/metrics/1";

    /// <summary>The six metrics with their metrics.json keys and display names, in report order.</summary>
    [JsonIgnore]
    public IReadOnlyList<(string Key, string Label, MetricSummary Summary)> Metrics =>
    [
        ("fd", "Fréchet distance (FD)", Fd),
        ("kid", "KID (MMD², cubic kernel)", Kid),
        ("precision", "precision", Precision),
        ("recall", "recall", Recall),
        ("density", "density", Density),
        ("coverage", "coverage", Coverage),
    ];
}
