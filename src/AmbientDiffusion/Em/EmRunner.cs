using System.Diagnostics;
using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Inverse;
using AmbientDiffusion.Rounds;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Em;

/// <summary>Progress of an EM run: which round (0-based) of how many, and that round's stage.</summary>
public sealed record EmProgress(int Round, int Rounds, ExperimentProgress Stage);

/// <summary>What an EM run did: its folder and the rounds finished so far.</summary>
public sealed record EmResult(EmLayout Layout, int Finished, int Rounds, bool Cancelled);

/// <summary>
/// Runs expectation–maximization from corrupted observations (<c>ambient em</c>) under runs/&lt;name&gt;: the data are
/// prepared and corrupted once (the shared data cache), then each round in its own run directory: the E-step
/// (<see cref="EStep"/>: posterior samples of every observation under the previous round's model, or under the
/// initialization in round 0: the <see cref="GaussianFit"/>'s exact conditionals or a checkpoint's MMPS/DPS), its
/// samples as a dataset (<see cref="PosteriorDataset"/>), and the M-step with its study (<see cref="RoundTraining"/>:
/// plain EDM through the ordinary trainer, warm-started from the previous round, then samples, evaluation and
/// memorization), and <c>round.json</c>. Only the corrupted artifact reaches the E-step and the M-step; the clean
/// prepared images serve the evaluation and the memorization analysis, as in every run. A round whose marker matches
/// its config is skipped and an interrupted one resumes (E-step shard by shard, training from its checkpoint); the
/// summary (<see cref="EmSummary"/>) is rewritten after every round.
/// In a data-parallel job (<see cref="Parallel"/>, <c>ambient launch -- em</c>) every rank runs the same rounds: rank 0
/// alone holds the lock, prepares the data, fits the Gaussian, writes the posterior dataset, the study and the summary
/// while the others wait; the E-step's shards are dealt out over the ranks (<see cref="EStepShare"/>), and the M-step
/// trains through the data-parallel trainer. Samples are keyed by observation, so the posterior dataset is the one a
/// single process writes, byte for byte.
/// </summary>
public sealed class EmRunner(string runsRoot)
{
    /// <summary>Folder of run directories (and of the data cache, runs/data).</summary>
    public string RunsRoot { get; } = runsRoot;

    /// <summary>This process's place in a data-parallel job (default: a single process).</summary>
    public DataParallel Parallel { get; init; } = DataParallel.Single;

    /// <summary>Stops an E-step after this many new shards (tests of interruption); unlimited by default.</summary>
    public int ShardLimit { get; init; } = int.MaxValue;

    /// <summary>The run's layout for <paramref name="config"/>: runs/&lt;name&gt;.</summary>
    public EmLayout Layout(ExperimentConfig config) => new(Path.Combine(RunsRoot, config.Name));

    /// <summary>Runs (or continues) every round of <paramref name="config"/>.</summary>
    public EmResult Run(ExperimentConfig config, IProgress<EmProgress>? progress = null, CancellationToken cancel = default)
    {
        var settings = EmSettings.Of(config, config.Name);
        var parallel = Parallel;
        ExperimentComposition.ResolvePrecision(config);
        var layout = Layout(config);
        CheckSameRun(config, layout);
        RunPreflight.BeforeData(config, layout.Folder);
        var initialization = settings.Init == EmInit.Checkpoint ? InitialCheckpoint(settings.Checkpoint) : null;
        // One writer per EM run: a second one would sample and train the same rounds in the same run directories. Rank 0
        // writes for a data-parallel job, so it alone holds the lock for all its ranks, and prepares the data while they wait.
        using var writer = parallel.IsPrimary ? DirectoryLock.Acquire(layout.Folder) : null;
        if (!parallel.IsPrimary) parallel.WaitForPrimary(DataParallel.DataPreparationTimeout, cancel);
        var cache = new DataCache(Path.Combine(RunsRoot, "data"));
        var prepared = cache.Prepared(config, Stage(progress, 0, settings.Rounds, "prepare"), cancel)
                       ?? throw new ConfigException($"{config.Name}: EM needs the clean prepared images' held-out split to evaluate every round: give a dataset section or data.prepared", "dataset");
        CheckBeforeWork(config, prepared, initialization);
        var corrupted = cache.Corrupted(config, prepared, Stage(progress, 0, settings.Rounds, "corrupt"), cancel);
        if (parallel.IsPrimary)
        {
            Directory.CreateDirectory(layout.Folder);
            AtomicFile.WriteAllBytes(layout.Config, System.Text.Encoding.UTF8.GetBytes(ConfigLoader.ToYaml(config)));
            parallel.WaitForPrimary(DataParallel.DataPreparationTimeout, cancel);
        }

        var finished = 0;
        for (var k = 0; k < settings.Rounds && !cancel.IsCancellationRequested; k++)
        {
            var round = k;
            var stageProgress = progress is null ? null : new ProgressRelay<ExperimentProgress>(p => progress.Report(new EmProgress(round, settings.Rounds, p)));
            if (!RunRound(config, layout, round, prepared, corrupted, initialization, cache, stageProgress, cancel)) break;
            finished = k + 1;
            if (parallel.IsPrimary) EmSummary.Write(layout);
        }
        if (parallel.IsPrimary) EmSummary.Write(layout);
        return new EmResult(layout, finished, settings.Rounds, cancel.IsCancellationRequested);
    }

    /// <summary>The initialization checkpoint: the file itself, or a run directory's newest checkpoint.</summary>
    private static string InitialCheckpoint(string path)
    {
        if (File.Exists(path)) return path;
        if (Directory.Exists(path))
            return Checkpoint.Latest(new RunDirectory(path).Checkpoints) ?? Checkpoint.Latest(path)
                   ?? throw new ConfigException($"em.checkpoint = {path}: a folder with no checkpoint (expected a checkpoint file or a run directory with checkpoints/)", "em.checkpoint");
        throw new ConfigException($"em.checkpoint = {path}: no such file or run directory", "em.checkpoint");
    }

    /// <summary>Checks before any work: every round's config is valid, the evaluation gets enough samples, and an
    /// initialization checkpoint makes images of the data's size.</summary>
    private static void CheckBeforeWork(ExperimentConfig config, string prepared, string? initialization)
    {
        int channels, height, width;
        using (var data = PreparedDataset.Open(prepared)) (channels, height, width) = (data.Channels, data.Height, data.Width);
        RunPreflight.BeforeTraining(EmRoundConfig.For(config, 0, "posterior.safetensors", prepared), prepared);
        if (initialization is null) return;
        using var file = Checkpoint.Open(initialization);
        var geometry = CheckpointHeader.Read(file).Geometry;
        if (geometry.Resolution != height || geometry.ImageChannels != channels || height != width)
            throw new ConfigException($"em.checkpoint = {initialization}: the model makes {geometry.ImageChannels}x{geometry.Resolution}x{geometry.Resolution} images, the data are {channels}x{height}x{width}", "em.checkpoint");
    }

    /// <summary>Continuing an EM run with other settings would mix two runs in one folder: refuse it. Only the number of
    /// rounds may change (a run can be extended). An em.yaml with no round begun binds nothing.</summary>
    private static void CheckSameRun(ExperimentConfig config, EmLayout layout)
    {
        if (!File.Exists(layout.Config) || !Directory.Exists(layout.Round(0).Path)) return;
        var stored = ConfigLoader.Parse(File.ReadAllText(layout.Config), layout.Config);
        var (now, then) = (Comparable(config), Comparable(stored));
        if (now == then) return;
        var nowLines = now.Split('\n');
        var differing = nowLines.Zip(then.Split('\n')).FirstOrDefault(p => p.First != p.Second).First ?? nowLines[^1];
        throw new ConfigException($"{config.Name}: the EM run in {layout.Folder} was run with another config ({layout.Config}; first difference near '{differing.Trim()}'): continuing would mix two runs (use another name, or restore the setting)", "em");
    }

    private static string Comparable(ExperimentConfig config)
    {
        var copy = ConfigLoader.Parse(ConfigLoader.ToYaml(config), config.Name);
        copy.Em = copy.Em! with { Rounds = 1 };
        return ConfigLoader.ToYaml(copy);
    }

    private static string EmYaml(EmSettings settings) => Yaml.Serializer.Serialize(settings with { Rounds = 1 });

    /// <summary>Runs one round unless its marker says it is finished; false when it was cancelled or interrupted.
    /// Every rank of a job takes the same branches: the marker and the posterior dataset are written by rank 0 only
    /// between two of the round's meeting points, never while another rank may be looking for them.</summary>
    private bool RunRound(ExperimentConfig em, EmLayout layout, int round, string prepared, string corrupted, string? initialization, DataCache cache,
        IProgress<ExperimentProgress>? progress, CancellationToken cancel)
    {
        var settings = em.Em!;
        var parallel = Parallel;
        var run = layout.Round(round);
        var posteriorPath = EmLayout.Posterior(run);
        var config = EmRoundConfig.For(em, round, posteriorPath, prepared);
        var identity = new Dictionary<string, string> { ["config"] = ConfigLoader.ToYaml(config), ["em"] = EmYaml(settings) };
        if (RoundMarker.Matches(EmLayout.Marker(run), identity)) return true;
        Directory.CreateDirectory(run.Path);

        var watch = Stopwatch.StartNew();
        if (!File.Exists(posteriorPath))
        {
            var plan = new EStepPlan(settings.Posterior.SamplesPerMeasurement, settings.Posterior.BatchSize, settings.ShardSize, em.Seed, round);
            var shards = EmLayout.Shards(run);
            using (var posterior = Posterior(em, layout, round, corrupted, initialization, progress, cancel))
            {
                if (posterior is null) return false;
                var done = EStep.Run(corrupted, posterior, plan, shards,
                    progress is null ? null : new ProgressRelay<EStepProgress>(p => progress.Report(new ExperimentProgress("e-step", p.Done, p.Total))), ShardLimit,
                    new EStepShare(parallel.Rank, parallel.WorldSize), cancel);
                // Ranks finish their shares at different times; a rank stopped by a signal stops them all.
                if (!parallel.AllRanks(done, DataParallel.DataPreparationTimeout, cancel)) return false;
                if (parallel.IsPrimary)
                {
                    int count;
                    using (var data = CorruptedDataset.Open(corrupted)) count = data.Count;
                    using var scope = torch.NewDisposeScope();
                    var samples = EStep.Read(shards, EStep.Shards(count, settings.ShardSize));
                    PosteriorDataset.WritePicture(EmLayout.PosteriorPicture(run), samples, corrupted, plan.SamplesPerObservation);
                    PosteriorDataset.Write(posteriorPath, samples, corrupted, plan.SamplesPerObservation, round, posterior.Describe());
                }
            }
            // The M-step's ranks all read the posterior dataset that rank 0 has just assembled.
            parallel.WaitForPrimary(DataParallel.DataPreparationTimeout, cancel);
        }
        var eStepSeconds = EStep.Seconds(EmLayout.Shards(run)) + GaussianSeconds(run);
        watch.Restart();
        var warmStart = round > 0 ? layout.Round(round - 1) : null;
        if (!RoundTraining.Run(config, run, new RunInputs(prepared, posteriorPath), warmStart, em, cache, prepared, progress, cancel, parallel)) return false;
        if (parallel.IsPrimary) WriteMarker(run, round, eStepSeconds, watch.Elapsed.TotalSeconds, settings, identity);
        // The next round's E-step reads this round's newest checkpoint, and every rank its marker, once rank 0's study is done.
        parallel.WaitForPrimary(DataParallel.DataPreparationTimeout, cancel);
        return true;
    }

    private static void WriteMarker(RunDirectory run, int round, double eStepSeconds, double mStepSeconds, EmSettings settings, Dictionary<string, string> identity) =>
        RoundMarker.Write(EmLayout.Marker(run), new
        {
            round,
            e_step_seconds = eStepSeconds,
            m_step_seconds_last_attempt = mStepSeconds,
            samples_per_observation = settings.Posterior.SamplesPerMeasurement,
            config = identity["config"],
            em = identity["em"],
        });

    /// <summary>The prior of round <paramref name="round"/>'s E-step; null when cancelled during the Gaussian fit.
    /// Rank 0 alone fits the Gaussian; every rank then reads the file it saved (none when rank 0 was stopped mid-fit).</summary>
    private IEmPosterior? Posterior(ExperimentConfig em, EmLayout layout, int round, string corrupted, string? initialization,
        IProgress<ExperimentProgress>? progress, CancellationToken cancel)
    {
        var settings = em.Em!;
        var device = Parallel.Place(Device.Parse(em.Device.Type));
        if (round > 0)
        {
            var previous = Checkpoint.Latest(layout.Round(round - 1).Checkpoints) ?? throw new FileNotFoundException($"{layout.Round(round - 1).Checkpoints}: round {round - 1} has no checkpoint; rerun to redo it");
            return new DiffusionPosterior(CheckpointPrior.Load(previous, device), settings.Posterior, State(settings));
        }
        if (initialization is not null) return new DiffusionPosterior(CheckpointPrior.Load(initialization, device), settings.Posterior, State(settings));
        var path = EmLayout.Gaussian(layout.Round(0));
        if (Parallel.IsPrimary && !File.Exists(path)) FitGaussian(settings, corrupted, path, progress, cancel);
        Parallel.WaitForPrimary(DataParallel.DataPreparationTimeout, cancel);
        return File.Exists(path) ? new GaussianPosterior(GaussianModel.Load(path)) : null;
    }

    /// <summary>Fits round 0's Gaussian to the observations and saves it to <paramref name="path"/>; saves nothing when cancelled.</summary>
    private static void FitGaussian(EmSettings settings, string corrupted, string path, IProgress<ExperimentProgress>? progress, CancellationToken cancel)
    {
        progress?.Report(new ExperimentProgress("gaussian fit", 0, settings.GaussianIterations));
        var watch = Stopwatch.StartNew();
        GaussianObservations observations;
        using (var data = CorruptedDataset.Open(corrupted)) observations = GaussianObservations.Read(data);
        GaussianModel model;
        try
        {
            model = GaussianFit.Fit(observations, settings.GaussianIterations, settings.FullCovariance(observations.Dim), cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return;
        }
        model.Save(path, new Dictionary<string, string>
        {
            ["iterations"] = settings.GaussianIterations.ToString(CultureInfo.InvariantCulture),
            ["observations"] = observations.Count.ToString(CultureInfo.InvariantCulture),
            ["seconds"] = watch.Elapsed.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
        });
        progress?.Report(new ExperimentProgress("gaussian fit", settings.GaussianIterations, settings.GaussianIterations));
    }

    private static ScalarType State(EmSettings settings) => settings.PosteriorState == PosteriorState.Float32 ? ScalarType.Float32 : ScalarType.Float64;

    private static double GaussianSeconds(RunDirectory run)
    {
        var path = EmLayout.Gaussian(run);
        if (!File.Exists(path)) return 0;
        using var file = SafeTensors.Open(path);
        return double.Parse(file.Metadata["seconds"], CultureInfo.InvariantCulture);
    }

    private static IProgress<(int Done, int Total)>? Stage(IProgress<EmProgress>? progress, int round, int rounds, string stage) =>
        progress is null ? null : new ProgressRelay<(int Done, int Total)>(p => progress.Report(new EmProgress(round, rounds, new ExperimentProgress(stage, p.Done, p.Total))));
}
