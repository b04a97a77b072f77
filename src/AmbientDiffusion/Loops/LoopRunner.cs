using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Data;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Rounds;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Loops;

/// <summary>Progress of a loop: which generation (1-based) of how many, and that generation's stage.</summary>
public sealed record LoopProgress(int Generation, int Generations, ExperimentProgress Stage);

/// <summary>What a loop run did: its folder and the generations finished so far.</summary>
public sealed record LoopResult(LoopLayout Layout, int Finished, int Generations, bool Cancelled);

/// <summary>
/// Runs a self-consuming loop (<c>ambient loop</c>) under runs/&lt;name&gt;/seed-&lt;seed&gt;: the real data are prepared and corrupted once
/// (the shared data cache), then each generation in its own run directory: its training files
/// (<see cref="GenerationData"/>, composed by <see cref="LoopComposition"/>), training through the ordinary composition
/// (resuming from its newest checkpoint; a fine-tuned generation starts from the previous one's EMA weights), its
/// synthetic set (the samples, with grid.png), the evaluation against the held-out real images, the memorization
/// analysis against the generation's own training set, the CAS of a class-conditional loop (<see cref="LoopCas"/>),
/// and <c>generation.json</c>. A generation whose marker matches
/// its config is skipped, so rerunning an interrupted loop continues where it stopped; the summary of every loop under
/// the runs folder (<see cref="LoopSummary"/>) is rewritten after every generation.
/// </summary>
public sealed class LoopRunner(string runsRoot)
{
    /// <summary>Folder of run directories (and of the data cache, runs/data).</summary>
    public string RunsRoot { get; } = runsRoot;

    /// <summary>The loop's folder layout for <paramref name="config"/>: runs/&lt;name&gt;/seed-&lt;seed&gt;.</summary>
    public LoopLayout Layout(ExperimentConfig config) => new(Path.Combine(RunsRoot, config.Name, LoopLayout.SeedFolder(config.Seed)));

    /// <summary>Runs (or continues) every generation of <paramref name="config"/>.</summary>
    public LoopResult Run(ExperimentConfig config, IProgress<LoopProgress>? progress = null, CancellationToken cancel = default)
    {
        var settings = config.Loop ?? throw new ConfigException($"{config.Name}: no loop section: `ambient loop` needs a loop: section (see docs/self-consuming-loops.md)", "loop");
        ExperimentComposition.ResolvePrecision(config);
        var layout = Layout(config);
        CheckSameLoop(config, layout);
        // Everything is checked before loop.yaml is written: a rejected config leaves no loop behind to refuse the next one.
        RunPreflight.BeforeData(config, layout.Folder);
        // One writer per loop (and seed): a second one would train the same generations in the same run directories.
        using var writer = DirectoryLock.Acquire(layout.Folder);
        var cache = new DataCache(Path.Combine(RunsRoot, "data"));
        var prepared = cache.Prepared(config, Stage(progress, 0, settings.Generations, "prepare"), cancel)!;
        var composition = CheckBeforeWork(config, settings, prepared);
        var corrupted = cache.Corrupted(config, prepared, Stage(progress, 0, settings.Generations, "corrupt"), cancel);
        Directory.CreateDirectory(layout.Folder);
        AtomicFile.WriteAllBytes(layout.Config, System.Text.Encoding.UTF8.GetBytes(ConfigLoader.ToYaml(config)));

        var finished = 0;
        for (var k = 1; k <= settings.Generations && !cancel.IsCancellationRequested; k++)
        {
            var generation = k;
            var stageProgress = progress is null ? null : new ProgressRelay<ExperimentProgress>(p => progress.Report(new LoopProgress(generation, settings.Generations, p)));
            if (!RunGeneration(config, layout, composition.Plan(k), prepared, corrupted, cache, stageProgress, cancel)) break;
            finished = k;
            LoopSummary.Write(RunsRoot);
            LoopBoard.Write(RunsRoot);
        }
        LoopSummary.Write(RunsRoot);
        LoopBoard.Write(RunsRoot);
        return new LoopResult(layout, finished, settings.Generations, cancel.IsCancellationRequested);
    }

    /// <summary>The checks that need the prepared real images, before any generation: guidance needs a conditional
    /// model, the pool holds every real draw, every generation's config is valid and the evaluation gets enough
    /// samples. Returns the composition of the training sets.</summary>
    private static LoopComposition CheckBeforeWork(ExperimentConfig config, LoopSettings settings, string prepared)
    {
        int pool, heldOut;
        using (var data = PreparedDataset.Open(prepared))
        {
            (pool, heldOut) = (data.Count, data.HeldOutCount);
            var conditional = config.Model.LabelDim is { } dim ? dim > 0 : data.Labels is not null;
            if (settings.Guidance != 1 && !conditional)
                throw new ConfigException($"loop.guidance = {settings.Guidance}: guidance needs a class-conditional model, and this loop's is unconditional (model.label_dim is 0, or {prepared} has no labels)", "loop.guidance");
        }
        LoopComposition composition;
        try
        {
            composition = new LoopComposition(settings, pool, config.Seed);
        }
        catch (SettingException e)
        {
            throw new ConfigException($"loop.{e.Message}", $"loop.{e.Setting}");
        }
        // The first generation trains as an ordinary run, later ones may change the loss (the ambient arm): both validate.
        foreach (var generation in new[] { 1, Math.Min(2, settings.Generations) }.Distinct())
            GenerationConfig.For(config, generation, "train.safetensors", "train-clean.safetensors");
        RunPreflight.CheckEvaluationSizes(config, prepared, heldOut);
        return composition;
    }

    /// <summary>Continuing a loop with other settings would mix two loops in one folder: refuse it. Only the number of
    /// generations (a loop can be extended) and the CAS sources (scored afterwards) may change. A loop.yaml with no
    /// generation begun binds nothing (no work was done with it).</summary>
    private static void CheckSameLoop(ExperimentConfig config, LoopLayout layout)
    {
        if (!File.Exists(layout.Config) || !Directory.Exists(layout.Generation(1).Path)) return;
        var stored = ConfigLoader.Parse(File.ReadAllText(layout.Config), layout.Config);
        var (now, then) = (Comparable(config), Comparable(stored));
        if (now == then) return;
        var nowLines = now.Split('\n');
        var differing = nowLines.Zip(then.Split('\n')).FirstOrDefault(p => p.First != p.Second).First ?? nowLines[^1];
        throw new ConfigException($"{config.Name}: the loop in {layout.Folder} was run with another config ({layout.Config}; first difference near '{differing.Trim()}'): continuing would mix two loops (use another name, or restore the setting)", "loop");
    }

    private static string Comparable(ExperimentConfig config)
    {
        var copy = ConfigLoader.Parse(ConfigLoader.ToYaml(config), config.Name);
        copy.Loop = copy.Loop! with { Generations = 1, CasTest = "", CasTrain = "" };
        return ConfigLoader.ToYaml(copy);
    }

    /// <summary>Runs one generation unless its marker says it is finished; false when it was cancelled.</summary>
    private static bool RunGeneration(ExperimentConfig loop, LoopLayout layout, GenerationPlan plan, string prepared, string corrupted, DataCache cache,
        IProgress<ExperimentProgress>? progress, CancellationToken cancel)
    {
        var settings = loop.Loop!;
        var run = layout.Generation(plan.Generation);
        var (trainPath, cleanPath) = (LoopLayout.TrainingData(run), LoopLayout.CleanTrainingData(run));
        var config = GenerationConfig.For(loop, plan.Generation, trainPath, cleanPath);
        if (GenerationMarker.IsFinished(run, config, settings)) return true;
        Directory.CreateDirectory(run.Path);

        if (!File.Exists(trainPath) || !File.Exists(cleanPath))
        {
            progress?.Report(new ExperimentProgress("compose", 0, 1));
            var parts = plan.SyntheticFrom.Select(j => Synthetic(layout, settings, j, prepared, loop.Seed, loop.Device.Type)).ToList();
            // The clean file is written last: both present means both complete (each is written atomically).
            File.Delete(cleanPath);
            GenerationData.Write(plan, prepared, corrupted, parts, loop.Seed, trainPath, cleanPath);
        }
        var inputs = new RunInputs(cleanPath, trainPath);
        var warmStart = settings.Retrain == RetrainMode.Finetune && plan.Generation > 1 ? layout.Generation(plan.Generation - 1) : null;
        if (!RoundTraining.Run(config, run, inputs, warmStart, loop, cache, prepared, progress, cancel)) return false;
        if (settings.CasTest.Length > 0)
        {
            progress?.Report(new ExperimentProgress("cas", 0, 1));
            var realTrain = settings.CasTrain.Length > 0 ? settings.CasTrain : Classification.ClassificationAccuracyScore.DefaultRealTrain(settings.CasTest)!;
            if (!LoopCas.Run(run, realTrain, settings.CasTest, config.Seed, Device.Parse(config.Device.Type)))
                throw new ConfigException($"loop.cas_test = {settings.CasTest}: the CAS needs labelled samples, and generation {plan.Generation}'s model is not class-conditional", "loop.cas_test");
            progress?.Report(new ExperimentProgress("cas", 1, 1));
        }
        GenerationMarker.Write(run, config, settings, plan);
        return true;
    }

    /// <summary>The synthetic set of generation <paramref name="generation"/> as it enters later generations, with its σ_tn
    /// in the ambient arm (fixed, or estimated once and kept in the generation's sigma_tn.json).</summary>
    private static SyntheticPart Synthetic(LoopLayout layout, LoopSettings settings, int generation, string prepared, ulong seed, string device)
    {
        var run = layout.Generation(generation);
        if (!File.Exists(run.SamplesFile)) throw new FileNotFoundException($"{run.SamplesFile}: generation {generation}'s samples are missing; rerun the loop to redo that generation", run.SamplesFile);
        if (settings.SyntheticAs == SyntheticUse.Data) return new SyntheticPart(generation, run.SamplesFile, null);
        var path = LoopLayout.SigmaTn(run);
        var levels = SigmaTnFile.Read(path);
        if (levels is null)
        {
            int count;
            using (var samples = Sampling.SampleSet.Open(run.SamplesFile)) count = (int)samples.Info(Sampling.SampleSet.SamplesKey).Shape[0];
            var estimate = settings.SigmaTnEstimate
                ? SigmaTnEstimator.Estimate(prepared, run.SamplesFile, new SigmaTnEstimatorOptions { Seed = seed ^ (ulong)generation }, Device.Parse(device))
                : new SigmaTnEstimate(Enumerable.Repeat((float)settings.SigmaTn, count).ToArray(), [], []);
            SigmaTnFile.Write(path, estimate, settings.SigmaTnEstimate ? "estimated" : "fixed");
            levels = estimate.PerImage;
        }
        return new SyntheticPart(generation, run.SamplesFile, levels);
    }

    private static IProgress<(int Done, int Total)>? Stage(IProgress<LoopProgress>? progress, int generation, int generations, string stage) =>
        progress is null ? null : new ProgressRelay<(int Done, int Total)>(p => progress.Report(new LoopProgress(generation, generations, new ExperimentProgress(stage, p.Done, p.Total))));
}
