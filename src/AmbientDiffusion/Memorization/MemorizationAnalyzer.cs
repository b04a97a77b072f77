using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// The memorization analyzer (spec §6): nearest training images of generated samples in several feature spaces,
/// beside train-to-train (self excluded) and held-out-to-train baselines, written as report.json, report.html and
/// neighbors.png. The CLI's <c>ambient memorization</c>, run directories and sweeps all call <see cref="Run"/>.
/// </summary>
public static class MemorizationAnalyzer
{
    /// <summary>Name of the samples set in reports.</summary>
    public static readonly string SamplesSet = SetRole.Samples.Name();

    /// <summary>Name of the train-to-train baseline (self excluded).</summary>
    public const string TrainBaseline = "train_train";

    /// <summary>Name of the held-out-to-train baseline.</summary>
    public const string HeldOutBaseline = "heldout_train";

    /// <summary>Side of the pixel space of the quality measure when the downsampled space is switched off.</summary>
    public const int DefaultQualityDownsample = 16;

    /// <summary>Neighbours of each worst sample shown in the report and neighbors.png.</summary>
    public const int ShownNeighbors = 3;

    /// <summary>Images each set needs (samples, training images, held-out images when given): the Fréchet distance of
    /// quality.json needs two rows a set, and d2 a second training image.</summary>
    public const int MinimumRows = FrechetDistance.MinimumRows;

    /// <summary>Reads the inputs, analyses them, writes the report files and returns the report.</summary>
    public static MemorizationReport Run(MemorizationOptions options, IProgress<MemorizationProgress>? progress = null)
    {
        var settings = options.Settings;
        settings.Validate();
        torch.Initialize();
        var device = ResolveDevice(settings.Device);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (device.Type == DeviceType.CUDA)
            torch.cuda.allow_tf32(false); // TF32 products would void the k-NN certificate's error bound (see NearestNeighbors)

        var (train, defaultHeldOut) = MemorizationInputs.ReadTraining(options.TrainPath);
        var samples = MemorizationInputs.ReadImages(options.SamplesPath, SetRole.Samples);
        MemorizationInputs.CheckCompatible(samples, train);
        var heldOut = options.HeldOutPath is { } heldOutPath ? MemorizationInputs.ReadImages(heldOutPath, SetRole.HeldOut) : defaultHeldOut;
        if (heldOut is not null) MemorizationInputs.CheckCompatible(heldOut, train);
        // Before any search: a set too small for the analysis is named with its file.
        CheckSize(train, "d2, the memorization ratio and the train-vs-held-out Fréchet distance");
        CheckSize(samples, "the Fréchet distance of quality.json");
        if (heldOut is not null) CheckSize(heldOut, "the train-vs-held-out Fréchet distance of quality.json");

        var notes = new List<string>();
        var external = ReadExternal(options, samples, train, heldOut, notes);
        var rowSpaces = new List<ExternalFeatures>();
        if (external is not null) rowSpaces.Add(external);
        foreach (var extracted in options.Extracted)
        {
            progress?.Report(new MemorizationProgress($"{extracted.Name}: features", 0, 1));
            rowSpaces.Add(new ExternalFeatures(extracted.Name, extracted.Description, null, extracted.Extract(samples.Images), null, extracted.Extract(train.Images),
                null, heldOut is null ? null : extracted.Extract(heldOut.Images)));
        }

        // baseline queries: seeded subsets of at most BaselineQueries images
        int[]? trainQueries = null, heldOutQueries = null;
        if (settings.BaselineQueries == 0) notes.Add("baselines disabled (baseline queries = 0)");
        else
        {
            if (train.Count >= 3) trainQueries = Subset(train.Count, settings.BaselineQueries, settings.BaselineSeed, RandomStream.BaselineTrainQueries);
            else notes.Add($"train->train baseline skipped: it needs at least 3 training images, there are {train.Count}");
            if (heldOut is not null) heldOutQueries = Subset(heldOut.Count, settings.BaselineQueries, settings.BaselineSeed, RandomStream.BaselineHeldOutQueries);
            else notes.Add("held-out->train baseline skipped: no held-out images (the training file has no heldout_images and no --heldout was given)");
            if (trainQueries is not null && trainQueries.Length < train.Count) notes.Add($"train->train baseline: a seeded subset of {trainQueries.Length} of {train.Count} training images (seed {settings.BaselineSeed})");
            if (heldOutQueries is not null && heldOutQueries.Length < heldOut!.Count) notes.Add($"held-out->train baseline: a seeded subset of {heldOutQueries.Length} of {heldOut.Count} held-out images (seed {settings.BaselineSeed})");
        }

        var (_, height, width) = train.ImageShape;
        var downsample = settings.Downsample;
        if (downsample > 0 && downsample >= height && downsample >= width)
        {
            notes.Add($"downsampled space left out: {downsample}x{downsample} is not smaller than the {height}x{width} images");
            downsample = 0;
        }
        var spaces = new List<(FeatureSpaceKind Kind, ExternalFeatures? Rows)> { (FeatureSpaceKind.Pixels, null), (FeatureSpaceKind.FlipInvariant, null) };
        if (downsample > 0) spaces.Add((FeatureSpaceKind.Downsampled, null));
        spaces.Add((FeatureSpaceKind.NormalizedCosine, null));
        spaces.AddRange(rowSpaces.Select(rows => (FeatureSpaceKind.External, (ExternalFeatures?)rows)));

        var setsPerSpace = 1 + (trainQueries is null ? 0 : 1) + (heldOutQueries is null ? 0 : 1);
        var total = spaces.Count * setsPerSpace;
        var done = 0;
        void Step(string stage) => progress?.Report(new MemorizationProgress(stage, ++done, total));
        progress?.Report(new MemorizationProgress("reading inputs", 0, total));

        var reports = new List<SpaceReport>();
        KnnResult? pixelSamples = null, pixelTrain = null;
        var perSample = new PerSampleScores();
        foreach (var (kind, rows) in spaces)
        {
            using var spaceScope = torch.NewDisposeScope();
            var context = new SpaceContext(kind, settings, device, downsample, train, trainQueries, heldOut, heldOutQueries, rows);
            var values = new List<NeighborValues>();
            foreach (var (set, images, queries, self) in context.QuerySets(samples))
            {
                if (images is null) continue;
                var knn = context.Search(images, queries, self);
                values.Add(context.Values(set, knn));
                if (kind == FeatureSpaceKind.Pixels && set == SamplesSet) pixelSamples = knn;
                if (kind == FeatureSpaceKind.Pixels && set == TrainBaseline) pixelTrain = knn;
                if (set == SamplesSet) perSample.Add(context.Name, FeatureSpaces.MetricOf(kind), context.Dimension, knn);
                Step($"{context.Name}: {set}");
            }
            var metrics = FeatureSpaces.MetricOf(kind) == FeatureMetricKind.Distance
                ? MemorizationStatistics.SummariseDistances(values, settings.CarliniAlpha, settings.HistogramBins, settings.Bootstrap, context.Name)
                : MemorizationStatistics.SummariseCosines(values, settings.HistogramBins, settings.Bootstrap, context.Name);
            reports.Add(new SpaceReport
            {
                Name = context.Name,
                Metric = FeatureSpaces.MetricOf(kind) == FeatureMetricKind.Distance ? "distance" : "cosine",
                Dimension = context.Dimension,
                Description = context.Description,
                Sets = metrics,
            });
        }
        if (external is { HeldOut: null } && heldOutQueries is not null)
            notes.Add("external space: held-out->train baseline skipped (no --features-heldout)");

        var report = new MemorizationReport
        {
            Version = ToolVersion.Describe(),
            Device = device.ToString(),
            Inputs = new ReportInputs
            {
                Samples = samples.Source,
                Train = train.Source,
                HeldOut = heldOut?.Source,
                FeaturesSamples = external?.SamplesSource,
                FeaturesTrain = external?.TrainSource,
                FeaturesHeldOut = external?.HeldOutSource,
            },
            Options = settings,
            Notes = notes,
            Spaces = reports,
            Worst = WorstSamples(pixelSamples!, FeatureSpaces.Dimension(FeatureSpaceKind.Pixels, train.Images.shape, 0), settings.WorstCount),
            TrainingAudit = TrainingAudit.Build(pixelTrain, trainQueries, pixelSamples!, FeatureSpaces.Dimension(FeatureSpaceKind.Pixels, train.Images.shape, 0),
                options.SamplesPath, options.TrainPath, settings.Bootstrap),
        };
        progress?.Report(new MemorizationProgress("writing report", done, total));
        // quality.json before report.json: a report.json marks the analysis finished.
        SampleQuality.Measure(samples, train, heldOut, settings.Downsample > 0 ? settings.Downsample : DefaultQualityDownsample).Write(options.OutputDirectory);
        Directory.CreateDirectory(options.OutputDirectory);
        perSample.Write(options.OutputDirectory);
        MemorizationReportWriter.Write(report, samples, train, options.OutputDirectory, options.HtmlSections);
        return report;
    }

    private static void CheckSize(ImageSet set, string needs)
    {
        if (set.Count < MinimumRows)
            throw new InvalidDataException($"{set.Source.Path}: the {set.Role.Name()} set ('{set.Source.Tensor}') has {set.Count} image, expected at least {MinimumRows} ({needs} needs them)");
    }

    /// <summary>The device named by <paramref name="text"/>, refusing CUDA when libtorch has none.</summary>
    public static Device ResolveDevice(string text)
    {
        var device = Device.Parse(text);
        if (device.Type == DeviceType.CUDA && (!torch.cuda.is_available() || device.Index >= torch.cuda.device_count()))
            throw new ArgumentException($"device '{text}': no such CUDA device (libtorch sees {(torch.cuda.is_available() ? torch.cuda.device_count() : 0)}); use --device cpu or auto");
        return device;
    }

    /// <summary>Indices 0..n-1 when n &lt;= limit, else a seeded subset of <paramref name="limit"/> of them, ascending.</summary>
    public static int[] Subset(int n, int limit, ulong seed, RandomStream stream)
    {
        if (n <= limit) return Enumerable.Range(0, n).ToArray();
        var chosen = RandomStreams.For(stream, seed).Permutation(n)[..limit];
        Array.Sort(chosen);
        return chosen;
    }

    private static IReadOnlyList<WorstSample> WorstSamples(KnnResult knn, long dimension, int count)
    {
        var order = Enumerable.Range(0, knn.Queries).OrderBy(i => knn.SquaredDistance(i, 0)).ThenBy(i => i).Take(count);
        return order.Select(i =>
        {
            var d1 = MemorizationStatistics.Rms(knn.SquaredDistance(i, 0), dimension);
            var d2 = MemorizationStatistics.Rms(knn.SquaredDistance(i, 1), dimension);
            var neighbors = Enumerable.Range(0, Math.Min(ShownNeighbors, knn.K))
                .Select(j => new Neighbor(knn.Index(i, j), MemorizationStatistics.Rms(knn.SquaredDistance(i, j), dimension))).ToArray();
            return new WorstSample(i, d1, d2 > 0 ? d1 / d2 : 0, neighbors);
        }).ToArray();
    }

    private static ExternalFeatures? ReadExternal(MemorizationOptions options, ImageSet samples, ImageSet train, ImageSet? heldOut, List<string> notes)
    {
        if (options.FeaturesSamplesPath is null && options.FeaturesTrainPath is null && options.FeaturesHeldOutPath is null) return null;
        if (options.FeaturesSamplesPath is null || options.FeaturesTrainPath is null)
            throw new ArgumentException("external features need both the samples' and the training set's files (--features-samples and --features-train)");
        var (trainSource, trainFeatures) = MemorizationInputs.ReadFeatures(options.FeaturesTrainPath, train, null);
        var width = trainSource.Shape[1];
        var (samplesSource, samplesFeatures) = MemorizationInputs.ReadFeatures(options.FeaturesSamplesPath, samples, width);
        InputFile? heldOutSource = null;
        Tensor? heldOutFeatures = null;
        if (options.FeaturesHeldOutPath is { } path)
        {
            if (heldOut is null) throw new ArgumentException($"{path}: held-out features were given but there is no held-out set (the training file has no heldout_images; pass --heldout)");
            (heldOutSource, heldOutFeatures) = MemorizationInputs.ReadFeatures(path, heldOut, width);
        }
        return new ExternalFeatures("external", $"cosine similarity of external features ({width} columns, {trainSource.Path})", samplesSource, samplesFeatures, trainSource, trainFeatures, heldOutSource, heldOutFeatures);
    }
}

/// <summary>Feature rows of each set (float32 [N, D] on the CPU): read from files (sources given) or extracted from the images.</summary>
/// Both belong to the analysis's dispose scope.
internal sealed record ExternalFeatures(string Name, string Description, InputFile? SamplesSource, Tensor Samples, InputFile? TrainSource, Tensor Train, InputFile? HeldOutSource, Tensor? HeldOut);

/// <summary>The features and searches of one feature space.</summary>
internal sealed class SpaceContext
{
    private readonly FeatureSpaceKind _kind;
    private readonly MemorizationSettings _settings;
    private readonly Device _device;
    private readonly int _downsample;
    private readonly ImageSet _train;
    private readonly int[]? _trainQueries;
    private readonly ImageSet? _heldOut;
    private readonly int[]? _heldOutQueries;
    private readonly ExternalFeatures? _external;
    private readonly Tensor _reference;

    public SpaceContext(FeatureSpaceKind kind, MemorizationSettings settings, Device device, int downsample, ImageSet train, int[]? trainQueries,
        ImageSet? heldOut, int[]? heldOutQueries, ExternalFeatures? external)
    {
        (_kind, _settings, _device, _downsample, _train, _trainQueries, _heldOut, _heldOutQueries, _external) =
            (kind, settings, device, downsample, train, trainQueries, heldOut, heldOutQueries, external);
        _reference = kind == FeatureSpaceKind.External
            ? FeatureSpaces.UnitRows(external!.Train.to(device))
            : FeatureSpaces.Compute(kind, train.Images, device, downsample);
        Dimension = _reference.size(1);
        (Name, Description) = kind switch
        {
            FeatureSpaceKind.Pixels => ("pixels", "RMS L2 distance of pixels in [0, 1]"),
            FeatureSpaceKind.FlipInvariant => ("flip_invariant", "RMS L2 distance of pixels in [0, 1], the smaller of the training image and its horizontal mirror"),
            FeatureSpaceKind.Downsampled => ($"downsampled_{downsample}", $"RMS L2 distance of pixels in [0, 1] area-averaged to {downsample}x{downsample}"),
            FeatureSpaceKind.NormalizedCosine => ("normalized_cosine", "cosine similarity of mean-centred pixels"),
            _ => (_external!.Name, _external.Description),
        };
    }

    public string Name { get; }

    public string Description { get; }

    public long Dimension { get; }

    private int K(bool excludeSelf)
    {
        var available = _train.Count - (excludeSelf ? 1 : 0);
        var wanted = FeatureSpaces.MetricOf(_kind) == FeatureMetricKind.Distance
            ? Math.Max(_settings.CarliniNeighbors, MemorizationAnalyzer.ShownNeighbors)
            : 1;
        return Math.Min(wanted, available);
    }

    /// <summary>(set name, its images or null when not run, query image indices or null for all, exclude self).</summary>
    public IEnumerable<(string set, ImageSet? images, int[]? queries, bool self)> QuerySets(ImageSet samples)
    {
        yield return (MemorizationAnalyzer.SamplesSet, samples, null, false);
        if (_trainQueries is not null) yield return (MemorizationAnalyzer.TrainBaseline, _train, _trainQueries, true);
        if (_heldOutQueries is not null && (_kind != FeatureSpaceKind.External || _external!.HeldOut is not null))
            yield return (MemorizationAnalyzer.HeldOutBaseline, _heldOut, _heldOutQueries, false);
    }

    /// <summary>Nearest training rows of the (subset of) <paramref name="set"/>.</summary>
    public KnnResult Search(ImageSet set, int[]? subset, bool excludeSelf)
    {
        using var scope = torch.NewDisposeScope();
        var k = K(excludeSelf);
        var exclude = excludeSelf ? subset : null;
        if (_kind == FeatureSpaceKind.FlipInvariant)
        {
            // |q - flip(r)| = |flip(q) - r|: search the query and its mirror, keep each training image's smaller distance.
            var images = Select(set.Images, subset);
            var plain = NearestNeighbors.Search(FeatureSpaces.Compute(FeatureSpaceKind.Pixels, images, _device), _reference, k, _settings.Knn, exclude);
            var mirrored = NearestNeighbors.Search(FeatureSpaces.Compute(FeatureSpaceKind.Pixels, images, _device, flip: true), _reference, k, _settings.Knn, exclude);
            return MergeMinimum(plain, mirrored);
        }
        var queries = _kind == FeatureSpaceKind.External
            ? FeatureSpaces.UnitRows(Select(ExternalRows(set), subset).to(_device))
            : FeatureSpaces.Compute(_kind, Select(set.Images, subset), _device, _downsample);
        return NearestNeighbors.Search(queries, _reference, k, _settings.Knn, exclude);
    }

    public NeighborValues Values(string set, KnnResult knn) => FeatureSpaces.MetricOf(_kind) == FeatureMetricKind.Distance
        ? MemorizationStatistics.DistanceValues(set, knn, Dimension, _settings.CarliniNeighbors)
        : MemorizationStatistics.CosineValues(set, knn);

    private Tensor ExternalRows(ImageSet set) => set.Role switch
    {
        SetRole.Samples => _external!.Samples,
        SetRole.Train => _external!.Train,
        _ => _external!.HeldOut!,
    };

    private static Tensor Select(Tensor rows, int[]? subset)
    {
        if (subset is null) return rows;
        var index = subset.Select(i => (long)i).ToArray();
        return rows.index_select(0, torch.tensor(index, device: rows.device));
    }

    /// <summary>Per query, the k training indices with the smallest of the two distances, ordered by (distance, index).</summary>
    private static KnnResult MergeMinimum(KnnResult a, KnnResult b)
    {
        var k = a.K;
        var squared = new float[a.SquaredDistances.Length];
        var indices = new int[a.Indices.Length];
        var best = new Dictionary<int, float>();
        for (var i = 0; i < a.Queries; i++)
        {
            best.Clear();
            foreach (var knn in new[] { a, b })
                for (var j = 0; j < k; j++)
                {
                    var (index, d) = (knn.Index(i, j), knn.SquaredDistance(i, j));
                    best[index] = best.TryGetValue(index, out var old) ? Math.Min(old, d) : d;
                }
            var merged = best.OrderBy(p => p.Value).ThenBy(p => p.Key).Take(k).ToArray();
            for (var j = 0; j < k; j++) (squared[i * k + j], indices[i * k + j]) = (merged[j].Value, merged[j].Key);
        }
        return new KnnResult(a.Queries, k, squared, indices, a.ExactFallbacks + b.ExactFallbacks);
    }
}
