using System.Text.Json.Serialization;

namespace AmbientDiffusion.Memorization;

/// <summary>One percentile of a distribution.</summary>
/// <param name="Q">Percent (1, 5, 25, 50, 75, 95, 99).</param>
/// <param name="Value">Linear interpolation between the closest ranks (NumPy's default).</param>
public sealed record Percentile(int Q, double Value);

/// <summary>Min, mean, max and percentiles of a sample of values.</summary>
public sealed record Distribution(double Min, double Mean, double Max, IReadOnlyList<Percentile> Percentiles)
{
    /// <summary>The value of percentile <paramref name="q"/>.</summary>
    public double At(int q) => Percentiles.First(p => p.Q == q).Value;
}

/// <summary>Counts of values in equal bins of [Lo, Hi] (values outside are clamped to the end bins).</summary>
public sealed record Histogram(double Lo, double Hi, IReadOnlyList<long> Counts);

/// <summary>The nearest-neighbour statistics of one query set (samples or a baseline) in one feature space.</summary>
public sealed record SetMetrics
{
    /// <summary>JSON name of the flagged share (pixel d1/d2 &lt; 1/3), also its key in <see cref="Intervals"/>.</summary>
    public const string FlaggedShareKey = "frac_ratio_lt_third";

    /// <summary>JSON name of the near-copy share (pixel d1 &lt; 0.05), also its key in <see cref="Intervals"/>.</summary>
    public const string NearCopyShareKey = "frac_d1_lt_0_05";

    /// <summary>samples, train_train (self excluded) or heldout_train.</summary>
    public required string Set { get; init; }

    /// <summary>Queries analysed (a baseline may be a seeded subset).</summary>
    public required int Queries { get; init; }

    /// <summary>Queries re-searched by a full exact scan (near-ties the candidate margin could not certify).</summary>
    public required int ExactFallbacks { get; init; }

    /// <summary>RMS distance to the nearest training image (distance spaces).</summary>
    public Distribution? D1 { get; init; }

    /// <summary>RMS distance to the second nearest training image (distance spaces).</summary>
    public Distribution? D2 { get; init; }

    /// <summary>Histogram of d1 on the space's shared axis (distance spaces).</summary>
    public Histogram? D1Histogram { get; init; }

    /// <summary>Fraction with d1 &lt; 0.05.</summary>
    [JsonPropertyName(NearCopyShareKey)]
    public double? FracD1Below005 { get; init; }

    /// <summary>Fraction with d1 &lt; 0.1.</summary>
    [JsonPropertyName("frac_d1_lt_0_1")]
    public double? FracD1Below01 { get; init; }

    /// <summary>Memorization ratio: fraction with d1 / d2 &lt; 1/3 (d1 = 0 counts).</summary>
    [JsonPropertyName(FlaggedShareKey)]
    public double? FracRatioBelowThird { get; init; }

    /// <summary>Carlini et al.'s extraction test: fraction with d1 &lt; alpha * mean distance to the n nearest.</summary>
    [JsonPropertyName("frac_carlini")]
    public double? FracCarlini { get; init; }

    /// <summary>Cosine similarity to the most similar training image (cosine spaces).</summary>
    public Distribution? Cos1 { get; init; }

    /// <summary>Histogram of the top-1 cosine on the space's shared axis.</summary>
    public Histogram? Cos1Histogram { get; init; }

    /// <summary>Fraction with top-1 cosine &gt; 0.5 (SSCD's copy threshold, Pizzi et al.; Somepalli et al.).</summary>
    [JsonPropertyName("frac_cos_gt_0_5")]
    public double? FracCosAbove050 { get; init; }

    /// <summary>Fraction with top-1 cosine &gt; 0.9.</summary>
    [JsonPropertyName("frac_cos_gt_0_90")]
    public double? FracCosAbove090 { get; init; }

    /// <summary>Fraction with top-1 cosine &gt; 0.95.</summary>
    [JsonPropertyName("frac_cos_gt_0_95")]
    public double? FracCosAbove095 { get; init; }

    /// <summary>Fraction with top-1 cosine &gt; 0.99.</summary>
    [JsonPropertyName("frac_cos_gt_0_99")]
    public double? FracCosAbove099 { get; init; }

    /// <summary>Percentile-bootstrap confidence interval of each fraction above, keyed by its JSON name (absent when
    /// <c>bootstrap_resamples</c> is 0).</summary>
    public IReadOnlyDictionary<string, ConfidenceInterval>? Intervals { get; init; }
}

/// <summary>All statistics of one feature space: the samples beside the baselines.</summary>
public sealed record SpaceReport
{
    /// <summary>pixels, flip_invariant, downsampled_16, normalized_cosine or external.</summary>
    public required string Name { get; init; }

    /// <summary>distance or cosine.</summary>
    public required string Metric { get; init; }

    /// <summary>Feature length.</summary>
    public required long Dimension { get; init; }

    /// <summary>One line saying what the space is.</summary>
    public required string Description { get; init; }

    /// <summary>Samples first, then the baselines that were run.</summary>
    public required IReadOnlyList<SetMetrics> Sets { get; init; }

    /// <summary>The statistics of one set, or null.</summary>
    public SetMetrics? Set(string name) => Sets.FirstOrDefault(s => s.Set == name);
}

/// <summary>One neighbour of a sample.</summary>
/// <param name="Index">Training image index.</param>
/// <param name="Distance">RMS pixel distance.</param>
public sealed record Neighbor(int Index, double Distance);

/// <summary>A sample with the smallest pixel d1 (most memorized) and its nearest training images.</summary>
public sealed record WorstSample(int Index, double D1, double Ratio, IReadOnlyList<Neighbor> Neighbors);

/// <summary>The inputs a report was made from.</summary>
public sealed record ReportInputs
{
    /// <summary>Generated samples.</summary>
    public required InputFile Samples { get; init; }

    /// <summary>Clean training set.</summary>
    public required InputFile Train { get; init; }

    /// <summary>Held-out set, when one was used.</summary>
    public InputFile? HeldOut { get; init; }

    /// <summary>External features of the samples.</summary>
    public InputFile? FeaturesSamples { get; init; }

    /// <summary>External features of the training set.</summary>
    public InputFile? FeaturesTrain { get; init; }

    /// <summary>External features of the held-out set.</summary>
    public InputFile? FeaturesHeldOut { get; init; }
}

/// <summary>Everything report.json holds (written snake_case).</summary>
public sealed record MemorizationReport
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string FormatName = "ambient/memorization-report/1";

    /// <summary>The file format.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>Tool and libtorch versions.</summary>
    public required string Version { get; init; }

    /// <summary>Device the neighbours were searched on.</summary>
    public required string Device { get; init; }

    /// <summary>Input files with hashes.</summary>
    public required ReportInputs Inputs { get; init; }

    /// <summary>Options in effect.</summary>
    public required MemorizationSettings Options { get; init; }

    /// <summary>Notes on what was skipped or adjusted (baselines not run and why).</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>One entry per feature space.</summary>
    public required IReadOnlyList<SpaceReport> Spaces { get; init; }

    /// <summary>Samples with the smallest pixel d1, most memorized first.</summary>
    public required IReadOnlyList<WorstSample> Worst { get; init; }

    /// <summary>Near-duplicate pairs inside the training set and the flagged samples per class (null in reports
    /// written before the audit existed).</summary>
    public TrainingAuditReport? TrainingAudit { get; init; }

    /// <summary>The space named <paramref name="name"/>, or null.</summary>
    public SpaceReport? Space(string name) => Spaces.FirstOrDefault(s => s.Name == name);
}
