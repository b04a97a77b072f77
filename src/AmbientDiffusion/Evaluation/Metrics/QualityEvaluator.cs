using AmbientDiffusion.Common;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Evaluation.Metrics;

/// <summary>What <see cref="QualityEvaluator"/> reads and how it measures.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Sample sets (seed sets): samples files (uint8 <c>samples</c>) or prepared datasets (their images).</summary>
    public required IReadOnlyList<string> SamplesPaths { get; init; }

    /// <summary>The real images: a prepared dataset or a samples file.</summary>
    public required string ReferencePath { get; init; }

    /// <summary>Use the reference dataset's held-out images instead of its training images.</summary>
    public bool ReferenceHeldOut { get; init; }

    /// <summary>A second real set for the floor; null splits the reference into two disjoint halves.</summary>
    public string? FloorReferencePath { get; init; }

    /// <summary>Feature space.</summary>
    public FeatureSpec Features { get; init; } = FeatureSpec.Pixels;

    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Seed of the reference split, the floor subset and the KID subsets.</summary>
    public ulong Seed { get; init; }

    /// <summary>Neighbours of the precision/recall/density/coverage balls.</summary>
    public int K { get; init; } = PrecisionRecallDensityCoverage.DefaultK;

    /// <summary>KID subsets per pair.</summary>
    public int KidSubsets { get; init; } = KernelInceptionDistance.DefaultSubsets;

    /// <summary>Largest KID subset.</summary>
    public int KidMaxSubsetSize { get; init; } = KernelInceptionDistance.DefaultMaxSubsetSize;

    /// <summary>Chunks of the exact k-NN search.</summary>
    public KnnOptions Knn { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (SamplesPaths.Count == 0) throw new ArgumentException("evaluate: at least one sample set is needed (--samples FILE)");
        ValidateSettings();
    }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid metric setting (the files aside).</summary>
    public void ValidateSettings()
    {
        SettingException.Check(K >= 1, "k", K, "at least 1 neighbour");
        SettingException.Check(KidSubsets >= 1, "kid_subsets", KidSubsets, "at least 1 subset");
        SettingException.Check(KidMaxSubsetSize >= KernelInceptionDistance.MinimumRows, "kid_subset_size", KidMaxSubsetSize, $"at least {KernelInceptionDistance.MinimumRows} rows");
        SettingException.Nested("knn", Knn.Validate);
    }
}

/// <summary>Progress of an evaluation: a stage name and its units done out of its total.</summary>
public sealed record EvaluationProgress(string Stage, int Done, int Total);

/// <summary>
/// Reads the sample sets and the real images, maps them to one feature space, and measures FD, KID, precision, recall,
/// density and coverage of each whole sample set against the whole reference set, as EDM's <c>fid.py</c>,
/// torch-fidelity and clean-fid do, beside the floor: the same metrics between two disjoint real sets, each with its
/// own sizes (the floor set as large as a sample set where the data allow).
/// </summary>
public static class QualityEvaluator
{
    /// <summary>Rows each set of one pair needs for every metric with <paramref name="k"/> neighbours (the most any of
    /// FD, KID and PRDC asks for).</summary>
    public static int RowsNeeded(int k) =>
        Math.Max(Math.Max(FrechetDistance.MinimumRows, KernelInceptionDistance.MinimumRows), PrecisionRecallDensityCoverage.RowsNeeded(k));

    /// <summary>Real images the reference set needs: <see cref="RowsNeeded"/>, twice over when the floor is made by
    /// splitting it (<paramref name="splitFloor"/>: each half is one side of the floor pair).</summary>
    public static int ReferenceRowsNeeded(int k, bool splitFloor) => (splitFloor ? 2 : 1) * RowsNeeded(k);

    /// <summary>Runs the evaluation of <paramref name="options"/>.</summary>
    public static EvaluationResult Run(EvaluationOptions options, IProgress<EvaluationProgress>? progress = null)
    {
        options.Validate();
        var device = MemorizationAnalyzer.ResolveDevice(options.Device);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var reference = ReadReference(options);
        var samples = options.SamplesPaths.Select(path => MemorizationInputs.ReadImages(path, SetRole.Samples)).ToList();
        foreach (var set in samples) MemorizationInputs.CheckCompatible(set, reference);
        var floorSource = options.FloorReferencePath is { } floorPath ? MemorizationInputs.ReadImages(floorPath, SetRole.Floor) : null;
        if (floorSource is not null) MemorizationInputs.CheckCompatible(floorSource, reference);
        // Every size is known now: a set too small for a metric fails here, before any feature is extracted.
        CheckSizes(options, reference, samples, floorSource);

        using var extractor = FeatureExtractors.Create(options.Features, device);
        Tensor Features(ImageSet set, string stage) =>
            extractor.Extract(set.Images, new ProgressRelay<long>(done => progress?.Report(new EvaluationProgress(stage, (int)done, set.Count))));
        var sampleCount = samples.Min(s => s.Count);
        var referenceFeatures = Features(reference, "features: reference");
        var (floorReferenceRows, floorRows, floor) = floorSource is null
            ? SplitFloor(referenceFeatures, sampleCount, options.Seed)
            : SecondSetFloor(Features(floorSource, "features: floor"), floorSource, referenceFeatures, sampleCount, options.Seed);
        var sampleFeatures = samples.Select((s, i) => Features(s, $"features: samples {i + 1}")).ToList();

        var pairs = sampleFeatures.Count + 1;
        PairMetrics Measure(Tensor realRows, Tensor rows, int index)
        {
            progress?.Report(new EvaluationProgress("metrics", index, pairs));
            return PairMetrics.Compute(realRows.to(device), rows.to(device), options);
        }
        var floorMetrics = Measure(floorReferenceRows, floorRows, 0);
        var perSet = sampleFeatures.Select((rows, i) => Measure(referenceFeatures, rows, i + 1)).ToList();
        progress?.Report(new EvaluationProgress("metrics", pairs, pairs));

        var (n, rn) = (sampleCount, (int)referenceFeatures.size(0));
        var (fn, frn) = ((int)floorRows.size(0), (int)floorReferenceRows.size(0));
        MetricSummary Summary(Func<PairMetrics, double> value) => MetricSummary.Of(perSet.Select(value).ToList(), value(floorMetrics), n, fn, rn, frn);
        var notes = new List<string>();
        if (fn < n || frn < rn)
            notes.Add($"the floor compares {fn} with {frn} real images, the samples {n} with {rn}: the floor is measured at smaller sizes, and FD's bias grows as the sizes shrink");
        if (samples.Select(s => s.Count).Distinct().Count() > 1) notes.Add("the sample sets differ in size; N is the smallest");
        if (floorMetrics.Kid.SubsetSize < options.KidMaxSubsetSize || perSet[0].Kid.SubsetSize < options.KidMaxSubsetSize)
            notes.Add($"KID subsets hold fewer than {options.KidMaxSubsetSize} rows (the sets are smaller): KID is unbiased, but its spread grows");
        return new EvaluationResult(
            EvaluationResult.FormatName, ToolVersion.Describe(), options.Features.ToString(), referenceFeatures.size(1), options.Seed, options.K,
            options.KidSubsets, perSet.Min(p => p.Kid.SubsetSize), floorMetrics.Kid.SubsetSize, reference.Source,
            options.ReferenceHeldOut ? "heldout" : "images", floor,
            samples.Select(s => new SampleSetInfo(s.Source, SeedsOf(s.Source.Path), s.Count)).ToList(),
            Summary(p => p.Fd),
            MetricSummary.Of(perSet.Select(p => p.Kid.Mean).ToList(), floorMetrics.Kid.Mean, n, fn, rn, frn, perSet.Select(p => p.Kid.Std).ToList(), floorMetrics.Kid.Std),
            Summary(p => p.Prdc.Precision), Summary(p => p.Prdc.Recall), Summary(p => p.Prdc.Density), Summary(p => p.Prdc.Coverage),
            notes);
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first set too small for the metrics: each sample
    /// set, the reference set (both halves of it when it makes the floor) and the second real set.</summary>
    private static void CheckSizes(EvaluationOptions options, ImageSet reference, IReadOnlyList<ImageSet> samples, ImageSet? floorSource)
    {
        var needed = RowsNeeded(options.K);
        var what = $"FD and KID need {Math.Max(FrechetDistance.MinimumRows, KernelInceptionDistance.MinimumRows)} rows, precision/recall/density/coverage with k = {options.K} need {PrecisionRecallDensityCoverage.RowsNeeded(options.K)}";
        foreach (var set in samples)
            if (set.Count < needed)
                throw new InvalidDataException($"{set.Source.Path}: the sample set has {set.Count} images, expected at least {needed} ({what}; draw more seeds or lower k)");
        var referenceNeeded = ReferenceRowsNeeded(options.K, splitFloor: floorSource is null);
        var referenceName = options.ReferenceHeldOut ? "held-out images" : "reference images";
        if (reference.Count < referenceNeeded)
            throw new InvalidDataException(floorSource is null
                ? $"{reference.Source.Path}: {reference.Count} {referenceName}, expected at least {referenceNeeded} (the floor splits them into two halves of at least {needed}: {what}); give more real images or a second real set (--floor-reference)"
                : $"{reference.Source.Path}: {reference.Count} {referenceName}, expected at least {referenceNeeded} ({what})");
        if (floorSource is not null && floorSource.Count < needed)
            throw new InvalidDataException($"{floorSource.Source.Path}: the floor set has {floorSource.Count} images, expected at least {needed} ({what})");
    }

    /// <summary>
    /// The two sides of the floor from one real set: a seeded permutation split into two disjoint halves of ⌊n/2⌋; the
    /// second half is the floor's reference, the first half (cut to <paramref name="sampleCount"/> rows) the floor set.
    /// </summary>
    public static (int[] Reference, int[] Floor) SplitHalves(int count, int sampleCount, ulong seed)
    {
        var half = count / 2;
        var permutation = RandomStreams.For(RandomStream.EvaluationSplit, seed).Permutation(count);
        var reference = permutation[half..(2 * half)];
        var floor = permutation[..Math.Min(half, sampleCount)];
        Array.Sort(reference);
        Array.Sort(floor);
        return (reference, floor);
    }

    /// <summary>(the floor's reference rows, the floor rows, how they were chosen) from the reference set's own halves.</summary>
    private static (Tensor, Tensor, FloorInfo) SplitFloor(Tensor features, int sampleCount, ulong seed)
    {
        var (reference, floor) = SplitHalves((int)features.size(0), sampleCount, seed);
        var description = $"{floor.Length} vs {reference.Length} real images: the reference images split into two disjoint halves by a seeded permutation (seed {seed}), {floor.Length} images of the first half (as many as a sample set where the half allows) against the second half of {reference.Length}; the samples are compared with all {features.size(0)} reference images";
        return (Rows(features, reference), Rows(features, floor), new FloorInfo("split", null, floor.Length, description) { ReferenceCount = reference.Length });
    }

    /// <summary>(the floor's reference rows, the floor rows, how they were chosen): a subset of a second real set against the whole reference.</summary>
    private static (Tensor, Tensor, FloorInfo) SecondSetFloor(Tensor floorFeatures, ImageSet floorSet, Tensor referenceFeatures, int sampleCount, ulong seed)
    {
        var count = (int)floorFeatures.size(0);
        var rows = RandomStreams.For(RandomStream.EvaluationSplit, seed).Permutation(count)[..Math.Min(count, sampleCount)];
        Array.Sort(rows);
        var referenceCount = (int)referenceFeatures.size(0);
        var description = $"{rows.Length} vs {referenceCount} real images: a second real set ({floorSet.Source.Path}), {rows.Length} of its {count} images (seeded subset, seed {seed}) against the whole reference set, as the samples are";
        return (referenceFeatures, Rows(floorFeatures, rows), new FloorInfo("second_set", floorSet.Source, rows.Length, description) { ReferenceCount = referenceCount });
    }

    private static Tensor Rows(Tensor features, int[] rows) => features.index_select(0, torch.tensor(rows.Select(r => (long)r).ToArray()));

    private static ImageSet ReadReference(EvaluationOptions options)
    {
        if (!options.ReferenceHeldOut) return MemorizationInputs.ReadImages(options.ReferencePath, SetRole.Reference);
        var (_, heldOut) = MemorizationInputs.ReadTraining(options.ReferencePath);
        return heldOut ?? throw new InvalidDataException($"{options.ReferencePath}: no held-out images (tensor 'heldout_images'); prepare the dataset with --heldout N, or leave out --reference-heldout");
    }

    /// <summary>The seeds tensor of a samples file as ranges ("0-49999"), or a note that the file has none.</summary>
    public static string SeedsOf(string path)
    {
        using var file = SafeTensors.Open(path);
        if (!file.Contains(SampleSet.SeedsKey)) return "none (not a samples file)";
        using var scope = torch.NewDisposeScope();
        return SeedRanges.Format(file.GetTensor(SampleSet.SeedsKey).to(ScalarType.Int64).data<long>());
    }
}

/// <summary>FD, KID and PRDC of one (reference, other) pair.</summary>
internal sealed record PairMetrics(double Fd, KidEstimate Kid, PrdcResult Prdc)
{
    public static PairMetrics Compute(Tensor reference, Tensor other, EvaluationOptions options) => new(
        FrechetDistance.Compute(other, reference),
        KernelInceptionDistance.Compute(other, reference, options.Seed, options.KidSubsets, options.KidMaxSubsetSize),
        PrecisionRecallDensityCoverage.Compute(reference, other, options.K, options.Knn));
}
