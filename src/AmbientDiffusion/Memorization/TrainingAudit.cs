using AmbientDiffusion.Data;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Memorization;

/// <summary>A training image whose nearest other training image lies under the copy threshold: a near-duplicate
/// pair inside the training set (pixel space), which a model can "copy" without memorizing anything unusual.</summary>
/// <param name="Index">The training image queried.</param>
/// <param name="Neighbor">Its nearest other training image.</param>
/// <param name="D1">RMS pixel distance between them.</param>
/// <param name="Ratio">d1/d2 (0 when d1 = 0).</param>
public sealed record DuplicatePair(int Index, int Neighbor, double D1, double Ratio);

/// <summary>The flagged share of the samples of one class.</summary>
/// <param name="Class">Class id.</param>
/// <param name="Name">Class name ("" when the file names none).</param>
/// <param name="Samples">Samples of the class.</param>
/// <param name="Flagged">Of them, flagged (pixel d1/d2 &lt; 1/3).</param>
/// <param name="Share">Flagged / samples.</param>
/// <param name="Interval">Bootstrap interval of the share.</param>
public sealed record ClassFlagged(long Class, string Name, int Samples, int Flagged, double Share, ConfidenceInterval? Interval);

/// <summary>The training-set audit of a report: near-duplicate pairs inside the training set and, for labelled data,
/// the flagged samples per class.</summary>
public sealed record TrainingAuditReport
{
    /// <summary>Training images queried against the rest (the train→train baseline's queries: all, or a seeded subset).</summary>
    public required int Queried { get; init; }

    /// <summary>Queried training images whose nearest other training image is under the copy threshold (d1/d2 &lt; 1/3).</summary>
    public required int NearDuplicates { get; init; }

    /// <summary>The pairs, closest first (at most <see cref="TrainingAudit.ListedPairs"/>).</summary>
    public required IReadOnlyList<DuplicatePair> Pairs { get; init; }

    /// <summary>What the per-class breakdown groups samples by: the class each sample was drawn for (a class-conditional
    /// model's samples file records it), else the class of its nearest training image; empty without labels.</summary>
    public string ClassOf { get; init; } = "";

    /// <summary>Flagged samples per class (empty without labels).</summary>
    public IReadOnlyList<ClassFlagged> ByClass { get; init; } = [];
}

/// <summary>Builds the <see cref="TrainingAuditReport"/> from the pixel-space searches of the analysis.</summary>
public static class TrainingAudit
{
    /// <summary>Pairs listed at most.</summary>
    public const int ListedPairs = 100;

    /// <summary>The audit; <paramref name="trainKnn"/> is the train→train search of <paramref name="trainQueries"/> (null
    /// when the baseline did not run), <paramref name="samplesKnn"/> the samples' search, both in pixels.</summary>
    public static TrainingAuditReport Build(KnnResult? trainKnn, int[]? trainQueries, KnnResult samplesKnn, long dimension, string samplesPath, string trainPath,
        BootstrapSettings bootstrap)
    {
        var pairs = new List<DuplicatePair>();
        if (trainKnn is not null && trainQueries is not null && trainKnn.K > 1)
            for (var i = 0; i < trainKnn.Queries; i++)
            {
                var (d1, d2) = (MemorizationStatistics.Rms(trainKnn.SquaredDistance(i, 0), dimension), MemorizationStatistics.Rms(trainKnn.SquaredDistance(i, 1), dimension));
                if (d1 == 0 || d1 < d2 / 3) pairs.Add(new DuplicatePair(trainQueries[i], trainKnn.Index(i, 0), d1, d2 > 0 ? d1 / d2 : 0));
            }
        var flagged = new bool[samplesKnn.Queries];
        for (var i = 0; i < flagged.Length; i++)
        {
            var d1 = MemorizationStatistics.Rms(samplesKnn.SquaredDistance(i, 0), dimension);
            var d2 = samplesKnn.K > 1 ? MemorizationStatistics.Rms(samplesKnn.SquaredDistance(i, 1), dimension) : double.NaN;
            flagged[i] = d1 == 0 || d1 < d2 / 3;
        }
        var (classes, names, classOf) = SampleClasses(samplesPath, trainPath, samplesKnn);
        var byClass = classes is null ? [] : classes.Select((c, i) => (Class: c, Flagged: flagged[i])).GroupBy(p => p.Class).OrderBy(g => g.Key).Select(g =>
        {
            var flags = g.Select(p => p.Flagged).ToArray();
            var name = names is not null && g.Key >= 0 && g.Key < names.Count ? names[(int)g.Key] : "";
            return new ClassFlagged(g.Key, name, flags.Length, flags.Count(f => f), (double)flags.Count(f => f) / flags.Length,
                Bootstrap.Proportion(flags, bootstrap, $"class/{g.Key}/frac_ratio_lt_third"));
        }).ToArray();
        return new TrainingAuditReport
        {
            Queried = trainKnn?.Queries ?? 0,
            NearDuplicates = pairs.Count,
            Pairs = pairs.OrderBy(p => p.D1).ThenBy(p => p.Index).Take(ListedPairs).ToArray(),
            ClassOf = classes is null ? "" : classOf,
            ByClass = byClass,
        };
    }

    /// <summary>Each sample's class: its own label in the samples file, else its nearest training image's label, else null.</summary>
    private static (long[]? Classes, IReadOnlyList<string>? Names, string ClassOf) SampleClasses(string samplesPath, string trainPath, KnnResult samplesKnn)
    {
        using (var samples = SafeTensors.Open(samplesPath))
            if (samples.Contains(DatasetLabels.LabelsKey) && samples.Info(DatasetLabels.LabelsKey).Shape is [var n] && n == samplesKnn.Queries)
            {
                using var scope = torch.NewDisposeScope();
                var labels = samples.GetTensor(DatasetLabels.LabelsKey).to(ScalarType.Int64).data<long>();
                return (labels, DatasetLabels.ReadClassNames(samples), "the class each sample was drawn for");
            }
        using var train = PreparedDataset.Open(trainPath);
        if (train.Labels is not { } trainLabels) return (null, null, "");
        return (Enumerable.Range(0, samplesKnn.Queries).Select(i => trainLabels[samplesKnn.Index(i, 0)]).ToArray(), train.ClassNames, "the class of the sample's nearest training image");
    }
}
