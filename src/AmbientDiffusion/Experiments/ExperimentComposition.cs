using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// The composition root (k-diffusion's config.py in spirit): the only code that knows both the config and the domain's
/// classes. It turns a validated <see cref="ExperimentConfig"/> into the trainer's setup (and through it the loss and
/// the denoiser), the sampling settings and the analysis options. Below this layer, <c>Models</c>, <c>Diffusion</c>,
/// <c>Training</c>, <c>Sampling</c> and <c>Memorization</c> never see a config; above it, the CLI only loads configs and
/// calls the pipeline.
/// </summary>
public static class ExperimentComposition
{
    /// <summary>The trainer's setup for <paramref name="config"/> in <paramref name="run"/>.</summary>
    public static TrainerSetup TrainerSetup(ExperimentConfig config, RunDirectory run, DataParallel? parallel = null) => new()
    {
        Parallel = parallel ?? DataParallel.Single,
        Seed = config.Seed,
        Model = config.Model,
        Loss = config.Loss,
        Training = config.Training,
        Device = config.Device,
        Flip = config.Data.Flip,
        ResolvedConfig = ConfigLoader.ToYaml(config),
        CheckpointDirectory = run.Checkpoints,
        MetricsFile = run.Metrics,
        TensorBoardDirectory = run.TensorBoard,
    };

    /// <summary>Starts training <paramref name="config"/> in <paramref name="runDirectory"/> on <paramref name="dataPath"/>
    /// (default: the config's <c>data.corrupted</c>), writing the resolved config there.</summary>
    public static Trainer StartTrainer(ExperimentConfig config, string runDirectory, string? dataPath = null, DataParallel? parallel = null)
    {
        var run = new RunDirectory(runDirectory);
        if (parallel?.IsPrimary != false) run.WriteConfig(ConfigLoader.ToYaml(config));
        return Within(() => Trainer.Start(TrainerSetup(config, run, parallel), DataPath(config, dataPath)));
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> from its newest checkpoint, or starts it when it has none.</summary>
    public static Trainer ResumeTrainer(ExperimentConfig config, string runDirectory, string? dataPath = null, DataParallel? parallel = null)
    {
        var run = new RunDirectory(runDirectory);
        return Checkpoint.Latest(run.Checkpoints) is null
            ? StartTrainer(config, runDirectory, dataPath, parallel)
            : Within(() => Trainer.Resume(TrainerSetup(config, run, parallel), DataPath(config, dataPath)));
    }

    /// <summary>Resolves <c>device.bf16</c> (<c>auto</c> to true or false) for this machine, in place, so that the run's
    /// config.yaml and checkpoints record the precision it trained in; true and false stay as they are.</summary>
    public static Bf16Decision ResolvePrecision(ExperimentConfig config, CpuCapabilities? cpu = null)
    {
        var decision = config.Device.DecideBf16(cpu ?? CpuCapabilities.Probe());
        config.Device = config.Device with { Bf16 = decision.Enabled ? Bf16Mode.True : Bf16Mode.False };
        return decision;
    }

    /// <summary>Replaces <paramref name="rule"/>, auto's flag rule on a CPU with native bf16 (<see cref="Bf16Decision.ToMeasure"/>),
    /// by timing steps each way on the run's own network and batch (<see cref="Bf16Probe"/>; recalled from
    /// <paramref name="cache"/> when this CPU, thread count and network were measured before), and sets
    /// <c>device.bf16</c> to the faster. Any other decision is returned as it is.</summary>
    public static Bf16Decision MeasurePrecision(ExperimentConfig config, RunDirectory run, string dataPath, Bf16Decision rule, Bf16TimingCache? cache, CpuCapabilities? cpu = null)
    {
        if (!rule.ToMeasure) return rule;
        cpu ??= CpuCapabilities.Probe();
        var timing = Within(() => Bf16Probe.MeasureOrRecall(TrainerSetup(config, run), DataPath(config, dataPath), cpu, cache));
        var decision = Bf16Decision.Measured(timing, cpu.ModelName);
        config.Device = config.Device with { Bf16 = decision.Enabled ? Bf16Mode.True : Bf16Mode.False };
        return decision;
    }

    /// <summary>The analyzer's options for a config's memorization section, in one expression.</summary>
    public static MemorizationOptions Memorization(ExperimentConfig config, string samplesPath, string preparedPath, string outputDirectory,
        IReadOnlyList<ExtractedSpace>? extracted = null) => new()
    {
        Extracted = extracted ?? [],
        SamplesPath = samplesPath,
        TrainPath = preparedPath,
        FeaturesSamplesPath = Optional(config.Memorization.FeaturesSamples),
        FeaturesTrainPath = Optional(config.Memorization.FeaturesTrain),
        FeaturesHeldOutPath = Optional(config.Memorization.FeaturesHeldout),
        OutputDirectory = outputDirectory,
        Settings = config.Memorization.ToSettings(config.Device.Type, config.Seed),
    };

    /// <summary>The membership attack's options for a run's checkpoint: members from its clean training set, the masks
    /// from its corrupted dataset, the config's <c>memorization.membership</c> settings and bootstrap keys.</summary>
    public static Membership.MembershipOptions Membership(ExperimentConfig config, string checkpoint, RunInputs inputs, string outputDirectory)
    {
        var settings = config.Memorization.ToSettings(config.Device.Type, config.Seed);
        return new Membership.MembershipOptions
        {
            CheckpointPath = checkpoint,
            TrainPath = inputs.Prepared ?? throw new ConfigException("the membership attack needs the run's clean training set (data.prepared or a dataset section)", "memorization.membership.enabled"),
            CorruptedPath = inputs.Corrupted,
            OutputDirectory = outputDirectory,
            Device = settings.Device,
            Settings = settings.Membership,
            Bootstrap = settings.Bootstrap,
        };
    }

    /// <summary>The sampling settings of the run a checkpoint was trained in (its resolved config's <c>sampling:</c>).</summary>
    public static SamplingSettings RunSampling(CheckpointHeader header, string checkpointPath) =>
        ConfigLoader.Parse(header.ResolvedConfig, $"{checkpointPath} (config)").Sampling;

    private static string? Optional(string path) => string.IsNullOrWhiteSpace(path) ? null : path;

    private static string DataPath(ExperimentConfig config, string? dataPath) =>
        !string.IsNullOrWhiteSpace(dataPath) ? dataPath
        : !string.IsNullOrWhiteSpace(config.Data.Corrupted) ? config.Data.Corrupted
        : throw new ConfigException("data.corrupted is empty: training needs a corrupted dataset (run the experiment with `ambient train`, which prepares and corrupts the data first)", "data.corrupted");

    // A loss that does not suit the data is found when the trainer opens it: name it as the config key it came from.
    private static T Within<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (SettingException e)
        {
            throw new ConfigException($"loss.{e.Message}", $"loss.{e.Setting}");
        }
    }
}
