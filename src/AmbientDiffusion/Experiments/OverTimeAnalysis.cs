using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Membership;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Experiments;

/// <summary>What <see cref="OverTimeAnalysis"/> does per checkpoint.</summary>
public sealed record OverTimeSettings
{
    /// <summary>Default of <see cref="Samples"/>.</summary>
    public const int DefaultSamples = 256;

    /// <summary>Samples per checkpoint: the first this many of the run's seeds (0: all of them).</summary>
    public int Samples { get; init; } = DefaultSamples;

    /// <summary>The copy analysis's settings (pixel spaces only), with the membership attacks' and the intervals'.</summary>
    public MemorizationSettings Memorization { get; init; } = new();
}

/// <summary>One checkpoint's numbers: the copy analysis in pixel space (samples) and the attacks' AUC, with intervals.</summary>
public sealed record OverTimePoint
{
#pragma warning disable CS1591
    public required long Step { get; init; }
    public required double Kimg { get; init; }
    public required string Folder { get; init; }
    public required int Samples { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName(SetMetrics.FlaggedShareKey)]
    public double? FlaggedShare { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("frac_ratio_lt_third_interval")]
    public ConfidenceInterval? FlaggedInterval { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName(SetMetrics.NearCopyShareKey)]
    public double? NearShare { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("frac_d1_lt_0_05_interval")]
    public ConfidenceInterval? NearInterval { get; init; }
    public IReadOnlyList<AttackResult> Attacks { get; init; } = [];
#pragma warning restore CS1591
}

/// <summary>Every checkpoint's point, in training order, and how many were analysed by this call.</summary>
public sealed record OverTimeSummary(IReadOnlyList<OverTimePoint> Points, int Analysed);

/// <summary>
/// Memorization over training time: for every checkpoint of a run (in checkpoints/, kept at every
/// <c>training.checkpoint_kimg</c>), draws samples with the run's sampling settings (its first seeds), runs the copy
/// analysis in pixel space and the membership attacks, each checkpoint into a folder of its own written whole
/// (a staging sibling renamed when done, so an interrupted call leaves nothing half-written and the next call skips
/// what is finished), then writes over_time.json, over_time.csv and over_time.png (flagged share, d1 &lt; 0.05 and the
/// attacks' AUC against kimg): when copying starts.
/// </summary>
public static class OverTimeAnalysis
{
    /// <summary>The default output folder's name inside the run (beside report/).</summary>
    public const string FolderName = "over-time";

    /// <summary>File names of the summary.</summary>
    public const string JsonFile = "over_time.json", CsvFile = "over_time.csv", ChartStem = "over_time";

    private const string Staging = ".partial";

    private static readonly JsonSerializerOptions Json = FiniteJson.SnakeCase(indented: true, omitNulls: true);

    /// <summary>Analyses the checkpoints of <paramref name="run"/> not yet in <paramref name="folder"/>, then writes the summary.</summary>
    public static OverTimeSummary Run(RunDirectory run, ExperimentConfig config, string folder, OverTimeSettings settings, IProgress<ExperimentProgress>? progress = null)
    {
        settings.Memorization.Validate();
        var inputs = run.ReadInputs();
        var prepared = inputs.Prepared ?? throw new InvalidDataException($"{run.Path}: trained from a corrupted file alone; the analysis needs the clean training set");
        var checkpoints = Directory.Exists(run.Checkpoints)
            ? Directory.EnumerateFiles(run.Checkpoints, "checkpoint-*.safetensors").Order(StringComparer.Ordinal).ToList() : [];
        if (checkpoints.Count == 0) throw new FileNotFoundException($"{run.Checkpoints}: no checkpoints to analyse");
        var seeds = config.Sampling.SeedList();
        if (settings.Samples > 0) seeds = seeds.Take(settings.Samples).ToList();
        if (seeds.Count < MemorizationAnalyzer.MinimumRows)
            throw new ArgumentException($"{seeds.Count} samples per checkpoint; the analysis needs at least {MemorizationAnalyzer.MinimumRows} (sampling.seeds = {config.Sampling.Seeds})");
        MembershipInputs.Check(new MembershipOptions
        {
            CheckpointPath = checkpoints[0], TrainPath = prepared, CorruptedPath = inputs.Corrupted, OutputDirectory = folder,
            Settings = settings.Memorization.Membership, Bootstrap = settings.Memorization.Bootstrap,
        });
        Directory.CreateDirectory(folder);
        using var writer = DirectoryLock.Acquire(folder);
        var device = MemorizationAnalyzer.ResolveDevice(settings.Memorization.Device);
        var analysed = 0;
        var points = new List<OverTimePoint>();
        for (var k = 0; k < checkpoints.Count; k++)
        {
            var name = Path.GetFileNameWithoutExtension(checkpoints[k]);
            var done = Path.Combine(folder, name);
            progress?.Report(new ExperimentProgress($"over time: {name}", k, checkpoints.Count));
            if (File.Exists(Path.Combine(done, MembershipReportWriter.JsonFile)) && File.Exists(Path.Combine(done, MemorizationReportWriter.JsonFile)))
            {
                var (point, membership) = ReadFinished(done);
                RequireSameAnalysis(done, point, membership, seeds.Count, settings.Memorization);
                points.Add(point);
                continue;
            }
            var staging = done + Staging;
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            AnalyseCheckpoint(checkpoints[k], config, inputs, prepared, seeds, staging, settings.Memorization, device);
            if (Directory.Exists(done)) Directory.Delete(done, recursive: true);
            Directory.Move(staging, done);
            points.Add(Point(done));
            analysed++;
        }
        progress?.Report(new ExperimentProgress("over time", checkpoints.Count, checkpoints.Count));
        WriteSummary(points, folder);
        return new OverTimeSummary(points, analysed);
    }

    /// <summary>A finished checkpoint is kept only when it was analysed as this call would analyse it: as many samples
    /// and the same attack and interval settings; otherwise the chart would mix unlike points, so the call stops.</summary>
    private static void RequireSameAnalysis(string done, OverTimePoint point, MembershipReport membership, int samples, MemorizationSettings settings)
    {
        var differences = new List<string>();
        if (point.Samples != samples) differences.Add($"{point.Samples} samples, this call draws {samples} (--over-time-samples)");
        string Json<T>(T value) => JsonSerializer.Serialize(value, MembershipReportWriter.JsonOptions);
        if (Json(membership.Settings) != Json<MembershipSettings>(settings.Membership))
            differences.Add($"attack settings {Json(membership.Settings)}, this call's are {Json<MembershipSettings>(settings.Membership)} (--membership-max-images, memorization.membership)");
        if (Json(membership.Bootstrap) != Json(settings.Bootstrap))
            differences.Add($"interval settings {Json(membership.Bootstrap)}, this call's are {Json(settings.Bootstrap)}");
        if (differences.Count > 0)
            throw new InvalidDataException($"{done}: analysed with {string.Join("; and ", differences)}. Give another output folder (-o), or delete {done} to analyse it again");
    }

    private static void AnalyseCheckpoint(string checkpoint, ExperimentConfig config, RunInputs inputs, string prepared, IReadOnlyList<ulong> seeds, string staging,
        MemorizationSettings settings, Device device)
    {
        var samples = Path.Combine(staging, "samples");
        using (var sampler = CheckpointSampler.Load(checkpoint, device, config.Sampling.Ema))
            sampler.SampleTo(samples, seeds, config.Sampling, config.Sampling.BatchSize, Math.Min(config.Sampling.Grid, seeds.Count));
        MemorizationAnalyzer.Run(new MemorizationOptions
        {
            SamplesPath = Path.Combine(samples, SampleSet.TensorFile),
            TrainPath = prepared,
            OutputDirectory = staging,
            Settings = settings,
        });
        MembershipAnalyzer.Run(new MembershipOptions
        {
            CheckpointPath = checkpoint,
            TrainPath = prepared,
            CorruptedPath = inputs.Corrupted,
            OutputDirectory = staging,
            Device = settings.Device,
            Settings = settings.Membership,
            Bootstrap = settings.Bootstrap,
        });
    }

    /// <summary>The numbers of one finished checkpoint folder.</summary>
    public static OverTimePoint Point(string checkpointFolder) => ReadFinished(checkpointFolder).Point;

    /// <summary>The point and the attack's report of one finished checkpoint folder, each file read once.</summary>
    private static (OverTimePoint Point, MembershipReport Membership) ReadFinished(string checkpointFolder)
    {
        var report = JsonSerializer.Deserialize<MemorizationReport>(File.ReadAllBytes(Path.Combine(checkpointFolder, MemorizationReportWriter.JsonFile)), MemorizationReportWriter.JsonOptions)
            ?? throw new InvalidDataException($"{checkpointFolder}: empty {MemorizationReportWriter.JsonFile}");
        var membership = MembershipReportWriter.Read(checkpointFolder) ?? throw new InvalidDataException($"{checkpointFolder}: no {MembershipReportWriter.JsonFile}");
        var pixels = report.Space("pixels")?.Set(MemorizationAnalyzer.SamplesSet);
        var name = Path.GetFileName(checkpointFolder);
        return (new OverTimePoint
        {
            Step = long.Parse(name["checkpoint-".Length..], CultureInfo.InvariantCulture),
            Kimg = membership.Kimg,
            Folder = name,
            Samples = pixels?.Queries ?? 0,
            FlaggedShare = pixels?.FracRatioBelowThird,
            FlaggedInterval = pixels?.Intervals?.GetValueOrDefault(SetMetrics.FlaggedShareKey),
            NearShare = pixels?.FracD1Below005,
            NearInterval = pixels?.Intervals?.GetValueOrDefault(SetMetrics.NearCopyShareKey),
            Attacks = membership.Attacks,
        }, membership);
    }

    private static void WriteSummary(IReadOnlyList<OverTimePoint> points, string folder)
    {
        var attacks = points.SelectMany(p => p.Attacks.Select(a => a.Name)).Distinct().ToList();
        var csv = new StringBuilder("step,kimg,samples,frac_ratio_lt_third,lo,hi,frac_d1_lt_0_05,lo,hi");
        foreach (var a in attacks) csv.Append($",{a}_auc,lo,hi,{a}_tpr_at_1pct_fpr");
        csv.Append('\n');
        static string N(double? v) => v is { } x ? x.ToString("G6", CultureInfo.InvariantCulture) : "";
        foreach (var p in points)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{p.Step},{N(p.Kimg)},{p.Samples},{N(p.FlaggedShare)},{N(p.FlaggedInterval?.Lo)},{N(p.FlaggedInterval?.Hi)},{N(p.NearShare)},{N(p.NearInterval?.Lo)},{N(p.NearInterval?.Hi)}");
            foreach (var name in attacks)
            {
                var a = p.Attacks.FirstOrDefault(x => x.Name == name);
                csv.Append(CultureInfo.InvariantCulture, $",{N(a?.Auc)},{N(a?.AucInterval?.Lo)},{N(a?.AucInterval?.Hi)},{N(a?.TprAt1PctFpr)}");
            }
            csv.Append('\n');
        }
        AtomicFile.WriteAllBytes(Path.Combine(folder, CsvFile), Encoding.UTF8.GetBytes(csv.ToString()));
        var series = new List<LineSeries>
        {
            new("flagged share (d1/d2 < 1/3)", points.Select(p => WithInterval(p.Kimg, p.FlaggedShare, p.FlaggedInterval)).ToList(), SpreadStyle.ErrorBars),
            new("d1 < 0.05", points.Select(p => WithInterval(p.Kimg, p.NearShare, p.NearInterval)).ToList(), SpreadStyle.ErrorBars),
        };
        series.AddRange(attacks.Select(name => new LineSeries($"{name} AUC", points.Select(p =>
        {
            var attack = p.Attacks.FirstOrDefault(a => a.Name == name);
            return WithInterval(p.Kimg, attack?.Auc, attack?.AucInterval);
        }).ToList(), SpreadStyle.ErrorBars)));
        new LineFigure
        {
            Title = "memorization over training",
            XLabel = "kimg (training images seen, thousands)",
            YLabel = "share of samples / attack AUC",
            YScale = AxisScale.Linear,
            YRange = (0, 1),
            References = [new ReferenceLine(0.5, "chance AUC")],
            Series = series,
        }.Write(folder, ChartStem);
        AtomicFile.WriteAllBytes(Path.Combine(folder, JsonFile), JsonSerializer.SerializeToUtf8Bytes(points, Json));
    }

    /// <summary>A chart point with its bootstrap interval as error bars (NaN, which breaks the line, where the value is missing).</summary>
    private static LinePoint WithInterval(double kimg, double? value, ConfidenceInterval? interval) =>
        new(kimg, value ?? double.NaN, Lo: value is null ? null : interval?.Lo, Hi: value is null ? null : interval?.Hi);
}
