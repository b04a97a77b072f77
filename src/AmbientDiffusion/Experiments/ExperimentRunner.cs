using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Membership;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Experiments;

/// <summary>Progress of one stage of an experiment: prepare, corrupt, train (in images), sample or memorization.</summary>
public sealed record ExperimentProgress(string Stage, double Done, double Total);

/// <summary>What an experiment run did.</summary>
public sealed record ExperimentResult(RunDirectory Run, RunInputs Inputs, long Step, double Kimg, bool Cancelled, bool Sampled, bool Analyzed);

/// <summary>
/// Runs one experiment end to end, each stage skipped when its output is already there: prepare the clean data and
/// corrupt it once (cached, <see cref="DataCache"/>), train on the corrupted artifact only (resuming from the newest
/// checkpoint), sample the EMA model, draw the story picture (what training saw beside the samples), and analyze the
/// samples' memorization against the clean training set.
/// The clean-data firewall holds because training receives nothing but the corrupted file's path.
/// </summary>
public sealed class ExperimentRunner(string runsRoot)
{
    /// <summary>Folder of run directories (and of the data cache, runs/data).</summary>
    public string RunsRoot { get; } = runsRoot;

    /// <summary>This process's place in a data-parallel job (default: a single process).</summary>
    public DataParallel Parallel { get; init; } = DataParallel.Single;

    /// <summary>Receives the precision the run trains in, once it is decided (measured, for <c>device.bf16: auto</c> on a
    /// CPU with native bf16).</summary>
    public IProgress<Bf16Decision>? Precision { get; init; }

    /// <summary>Where <c>device.bf16: auto</c> remembers its step timings (default: <see cref="Bf16TimingCache.FromEnvironment"/>; null: none).</summary>
    public Bf16TimingCache? TimingCache { get; init; } = Bf16TimingCache.FromEnvironment();

    /// <summary>The shared data cache.</summary>
    public DataCache Cache => new(Path.Combine(RunsRoot, "data"));

    /// <summary>Runs <paramref name="config"/> in <paramref name="runDirectory"/> (default runs/&lt;name&gt;). Without
    /// <paramref name="resume"/>, a run directory that already has checkpoints is an error.
    /// In a data-parallel job (<see cref="Parallel"/>), rank 0 prepares the data while the others wait, all ranks
    /// train, and rank 0 alone samples and writes the report. <c>device.bf16: auto</c> is resolved first
    /// (<see cref="ExperimentComposition.ResolvePrecision"/>), so the run records the precision it trained in.</summary>
    public ExperimentResult Run(ExperimentConfig config, string? runDirectory = null, bool resume = false, IProgress<ExperimentProgress>? progress = null, CancellationToken cancel = default)
    {
        // An EM config's loss is plain EDM for the M-steps' posterior samples: trained on the masked data directly it
        // would learn the zero-filled images.
        if (config.Em is not null)
            throw new ConfigException($"{config.Name}: an EM config (em: section) is run by `ambient em`, not trained as one run: its loss.kind edm would train on the masked observations themselves", "em");
        var parallel = Parallel;
        var mode = config.Device.Bf16;
        var precision = ExperimentComposition.ResolvePrecision(config);
        var runPath = runDirectory ?? Path.Combine(RunsRoot, config.Name);
        var run = new RunDirectory(runPath);
        var existing = Checkpoint.Latest(run.Checkpoints);
        if (existing is not null && !resume)
            throw new ArgumentException($"{run.Path} already has checkpoints ({Path.GetFileName(existing)}): pass --resume to continue it, or choose another name");
        if (existing is not null) CheckSameExperiment(config, run);
        if (existing is not null && mode == Bf16Mode.Auto) precision = KeepStartedPrecision(config, run, precision);
        RunPreflight.BeforeData(config, run.Path);
        var runExisted = Directory.Exists(runPath);
        // One writer per run directory: a second `train` of the run, or a `--resume` started while it runs, stops here
        // naming the holder. Rank 0 writes for a data-parallel job, so it alone holds the lock for all its ranks.
        using var writer = parallel.IsPrimary ? DirectoryLock.Acquire(runPath) : null;
        try
        {

            if (!parallel.IsPrimary) parallel.WaitForPrimary(DataParallel.DataPreparationTimeout, cancel);
            var prepared = Cache.Prepared(config, Stage(progress, "prepare"), cancel);
            // Before the corruption and the training: what the evaluation and the memorization analysis will read.
            RunPreflight.BeforeTraining(config, prepared);
            var corrupted = Cache.Corrupted(config, prepared, Stage(progress, "corrupt"), cancel);
            // Ranks of a data-parallel job could time differently and disagree: they keep the flag rule, as every rank gets it.
            if (precision.ToMeasure && parallel.WorldSize == 1)
            {
                progress?.Report(new ExperimentProgress("precision", 0, 1));
                precision = ExperimentComposition.MeasurePrecision(config, run, corrupted, precision, TimingCache);
                progress?.Report(new ExperimentProgress("precision", 1, 1));
            }
            Precision?.Report(precision);
            var inputs = new RunInputs(prepared, corrupted) { Precision = precision };
            if (parallel.IsPrimary)
            {
                run.WriteInputs(inputs);
                parallel.WaitForPrimary(DataParallel.DataPreparationTimeout, cancel);
            }

            long step;
            double kimg;
            using (var trainer = ExperimentComposition.ResumeTrainer(config, run.Path, corrupted, parallel))
            {
                if (parallel.IsPrimary && !trainer.IsComplete) RunBoard.WriteConfig(run, ConfigLoader.ToYaml(config), trainer.ImagesSeen);
                if (!trainer.IsComplete)
                {
                    var total = config.Training.DurationKimg * 1000;
                    trainer.Run(progress is null ? null : new ProgressRelay<TrainingProgress>(p => progress.Report(new ExperimentProgress("train", p.Kimg * 1000, total))), cancel);
                }
                (step, kimg) = (trainer.Step, trainer.ImagesSeen / 1000.0);
                // A worker can stop because another rank was cancelled: an incomplete run counts as cancelled.
                if (cancel.IsCancellationRequested || !trainer.IsComplete) return new ExperimentResult(run, inputs, step, kimg, true, false, false);
            }
            if (!parallel.IsPrimary) return new ExperimentResult(run, inputs, step, kimg, false, false, false);

            var sampled = Sample(config, run, progress, cancel);
            if (sampled) WriteStory(run, inputs);
            var classifier = sampled ? EvaluationStage.Classifier(config, Cache, inputs.Prepared, Stage(progress, "classifier")) : null;
            var spaces = EvaluationStage.Spaces(config, classifier);
            // Quality first, so that the memorization report can show it beside its verdict.
            if (sampled) EvaluationStage.Run(config, run, inputs, spaces, progress);
            var analyzed = sampled && Analyze(config, run, inputs, spaces, progress);
            if (sampled) RunBoard.WriteResults(run, spaces, (long)Math.Round(kimg * 1000));
            return new ExperimentResult(run, inputs, step, kimg, cancel.IsCancellationRequested, sampled, analyzed);
        }
        catch
        {
            // A run that fails before writing anything (a refused file, a too-small dataset) leaves no folder behind.
            writer?.ReleaseAndRemove(folderToo: !runExisted);
            throw;
        }
    }

    /// <summary>Samples the run's newest checkpoint into samples/ unless samples of that checkpoint and seed list are there.</summary>
    public static bool Sample(ExperimentConfig config, RunDirectory run, IProgress<ExperimentProgress>? progress = null, CancellationToken cancel = default)
    {
        var seeds = config.Sampling.SeedList();
        if (seeds.Count == 0) return false;
        var checkpoint = Checkpoint.Latest(run.Checkpoints) ?? throw new FileNotFoundException($"{run.Checkpoints}: no checkpoint to sample");
        if (File.Exists(run.SamplesFile))
        {
            using var file = SampleSet.Open(run.SamplesFile);
            var wanted = new Dictionary<string, string>
            {
                ["checkpoint"] = Path.GetFullPath(checkpoint),
                ["seeds"] = config.Sampling.Seeds,
                ["weights"] = config.Sampling.Ema ? "ema" : "raw",
                ["sampler_options"] = CheckpointSampler.DescribeOptions(config.Sampling),
            };
            if (wanted.All(w => file.Metadata.GetValueOrDefault(w.Key) == w.Value)) return true;
        }
        using var sampler = CheckpointSampler.Load(checkpoint, Device.Parse(config.Device.Type), config.Sampling.Ema);
        sampler.SampleTo(run.Samples, seeds, config.Sampling, config.Sampling.BatchSize, config.Sampling.Grid, config.Sampling.Png, config.Sampling.Seeds,
            progress is null ? null : new ProgressRelay<SamplingProgress>(p => progress.Report(new ExperimentProgress("sample", p.Done, p.Total))), cancel);
        return true;
    }

    /// <summary>Writes story.png (the corrupted images training saw beside the samples) unless one newer than the samples is there.</summary>
    public static void WriteStory(RunDirectory run, RunInputs inputs)
    {
        if (!File.Exists(run.SamplesFile)) return;
        if (File.Exists(run.Story) && File.GetLastWriteTimeUtc(run.Story) >= File.GetLastWriteTimeUtc(run.SamplesFile)) return;
        StoryPicture.Write(inputs.Corrupted, run.SamplesFile, run.Story);
    }

    /// <summary>Analyzes the run's samples against its clean training set into report/, unless a report newer than the samples is there.</summary>
    public static bool Analyze(ExperimentConfig config, RunDirectory run, RunInputs inputs, IReadOnlyList<FeatureSpec> spaces, IProgress<ExperimentProgress>? progress = null)
    {
        if (!config.Memorization.Enabled || inputs.Prepared is null || !File.Exists(run.SamplesFile)) return false;
        if (!Fresh(run.ReportFile, run.SamplesFile))
        {
            progress?.Report(new ExperimentProgress("memorization", 0, 1));
            using (var extracted = EvaluationStage.OpenForMemorization(spaces, MemorizationAnalyzer.ResolveDevice(config.Device.Type)))
                MemorizationAnalyzer.Run(ExperimentComposition.Memorization(config, run.SamplesFile, inputs.Prepared, run.Report, extracted.Spaces)
                    with { HtmlSections = EvaluationStage.HtmlSections(run, spaces) });
            progress?.Report(new ExperimentProgress("memorization", 1, 1));
        }
        // The attack reads the checkpoint the samples came from: redone when the samples are newer than its report.
        if (config.Memorization.Membership.Enabled && !Fresh(run.MembershipFile, run.SamplesFile) && Checkpoint.Latest(run.Checkpoints) is { } checkpoint)
            MembershipAnalyzer.Run(ExperimentComposition.Membership(config, checkpoint, inputs, run.Report),
                progress is null ? null : new ProgressRelay<MembershipProgress>(p => progress.Report(new ExperimentProgress("membership", p.Done, p.Total))));
        return true;
    }

    private static bool Fresh(string output, string input) => File.Exists(output) && File.GetLastWriteTimeUtc(output) >= File.GetLastWriteTimeUtc(input);

    /// <summary>A resumed run with <c>device.bf16: auto</c> goes on in the precision its config.yaml recorded when it
    /// started, so that a measurement that comes out differently today cannot switch it half-way.</summary>
    private static Bf16Decision KeepStartedPrecision(ExperimentConfig config, RunDirectory run, Bf16Decision decision)
    {
        if (!File.Exists(run.Config)) return decision;
        var started = ConfigLoader.Parse(File.ReadAllText(run.Config), run.Config).Device.Bf16;
        if (started == Bf16Mode.Auto) return decision;
        config.Device = config.Device with { Bf16 = started };
        var recorded = File.Exists(run.Inputs) ? run.ReadInputs().Precision : null;
        return new Bf16Decision(started == Bf16Mode.True, $"auto: {(started == Bf16Mode.True ? "bf16" : "float32")}, as the run's config.yaml recorded when it started") { Timing = recorded?.Timing };
    }

    /// <summary>Resuming with a different data, model or objective would silently mix two experiments: refuse it.</summary>
    private static void CheckSameExperiment(ExperimentConfig config, RunDirectory run)
    {
        if (!File.Exists(run.Config)) return;
        var stored = ConfigLoader.Parse(File.ReadAllText(run.Config), run.Config);
        (string Key, object? Now, object? Then)[] sections =
        [
            ("seed", config.Seed, stored.Seed), ("dataset", config.Dataset, stored.Dataset), ("corruption", config.Corruption, stored.Corruption),
            ("model", config.Model, stored.Model), ("loss", config.Loss, stored.Loss),
        ];
        foreach (var (key, now, then) in sections)
            if (ConfigLoader.ToYaml(now) != ConfigLoader.ToYaml(then))
                throw new ConfigException($"{key} differs from {run.Config}, the config {run.Path} was trained with: resuming would mix two experiments (use another name, or restore the setting)", key);
    }

    private static IProgress<(int Done, int Total)>? Stage(IProgress<ExperimentProgress>? progress, string stage) =>
        progress is null ? null : new ProgressRelay<(int Done, int Total)>(p => progress.Report(new ExperimentProgress(stage, p.Done, p.Total)));
}
