using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Experiments;

/// <summary>Progress of a sweep: which run (1-based) of how many, and that run's stage.</summary>
public sealed record SweepProgress(int Run, int Runs, string Label, ExperimentProgress Stage);

/// <summary>
/// Runs the points of a sweep in order under runs/&lt;sweep name&gt;/&lt;label&gt;: finished runs (a <c>done.json</c> beside
/// the same config) are skipped, interrupted ones resume from their newest checkpoint, and after every run the summary
/// (<see cref="SweepSummary"/>) is rewritten, so a partial sweep already has one.
/// </summary>
public sealed class SweepRunner(string runsRoot)
{
    /// <summary>Folder of run directories.</summary>
    public string RunsRoot { get; } = runsRoot;

    /// <summary>The sweep's folder.</summary>
    public string Folder(ExperimentConfig sweep) => Path.Combine(RunsRoot, sweep.Name);

    /// <summary>Runs every point of <paramref name="sweep"/>; returns the summary's folder. Stops (with its summary) when cancelled.</summary>
    public string Run(ExperimentConfig sweep, IProgress<SweepProgress>? progress = null, CancellationToken cancel = default)
    {
        var points = SweepExpander.Expand(sweep);
        var folder = Folder(sweep);
        // Every point was validated by the expansion; the files each will read are checked before the first trains.
        foreach (var point in points) RunPreflight.BeforeData(point.Config, Path.Combine(folder, point.Label));
        // One sweep per folder: a second one would run the same points and rewrite the same summary.
        using var writer = DirectoryLock.Acquire(folder);
        AtomicFile.WriteAllBytes(Path.Combine(folder, "sweep.yaml"), System.Text.Encoding.UTF8.GetBytes(ConfigLoader.ToYaml(sweep)));
        var runner = new ExperimentRunner(RunsRoot);
        for (var i = 0; i < points.Count && !cancel.IsCancellationRequested; i++)
        {
            var point = points[i];
            var run = new RunDirectory(Path.Combine(folder, point.Label));
            if (IsDone(run, point.Config)) continue;
            var index = i + 1;
            var result = runner.Run(point.Config, run.Path, resume: true,
                progress is null ? null : new ProgressRelay<ExperimentProgress>(p => progress.Report(new SweepProgress(index, points.Count, point.Label, p))), cancel);
            if (!result.Cancelled) MarkDone(run, point.Config, result);
            SweepSummary.Write(sweep, points, folder);
        }
        SweepSummary.Write(sweep, points, folder);
        return folder;
    }

    /// <summary>A run is finished when it recorded done.json for exactly this config.</summary>
    public static bool IsDone(RunDirectory run, ExperimentConfig config)
    {
        var file = run.Done;
        if (!File.Exists(file)) return false;
        using var json = JsonDocument.Parse(File.ReadAllBytes(file));
        return json.RootElement.TryGetProperty("config", out var stored) && stored.GetString() == ConfigLoader.ToYaml(config);
    }

    private static void MarkDone(RunDirectory run, ExperimentConfig config, ExperimentResult result) =>
        AtomicFile.WriteAllBytes(run.Done, JsonSerializer.SerializeToUtf8Bytes(new
        {
            step = result.Step,
            kimg = result.Kimg,
            sampled = result.Sampled,
            analyzed = result.Analyzed,
            config = ConfigLoader.ToYaml(config),
        }, Indented));

    private static readonly JsonSerializerOptions Indented = FiniteJson.Indented();
}
