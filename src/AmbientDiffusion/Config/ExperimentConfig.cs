using AmbientDiffusion.Common;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Models;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Config;

/// <summary>
/// One experiment, as written in YAML (snake_case keys): where the clean data come from (<c>dataset</c>), how they are
/// corrupted once (<c>corruption</c>), the model, the objective, training, sampling, the memorization analysis and the
/// device; plus an optional <c>sweep</c> grid. Defaults are the paper's where it has one and a small CPU-friendly
/// choice otherwise; configs/README.md documents every key. Most sections are the domain's own records, which own
/// their defaults and bounds; <see cref="Validate"/> runs their checks once and names the key path of a failure.
/// </summary>
public sealed class ExperimentConfig
{
    /// <summary>Run name: the run directory is runs/&lt;name&gt;.</summary>
    public string Name { get; set; } = "run";

    /// <summary>Seed of everything random in training (σ, noise, further corruption, shuffling, dropout, init).</summary>
    public ulong Seed { get; set; }

    /// <summary>The clean source, prepared once (omit it when <c>data.prepared</c> or <c>data.corrupted</c> names a file).</summary>
    public DatasetSection? Dataset { get; set; }

    /// <summary>The corruption applied once to the prepared images (omit it when <c>data.corrupted</c> names a file).</summary>
    public CorruptionSection? Corruption { get; set; }

    /// <summary>Explicit data files and the loader's augmentation.</summary>
    public DataSection Data { get; set; } = new();

    /// <summary>The U-Net.</summary>
    public ModelSettings Model { get; set; } = new();

    /// <summary>The objective.</summary>
    public LossSettings Loss { get; set; } = new();

    /// <summary>Optimisation and bookkeeping.</summary>
    public TrainingSettings Training { get; set; } = new();

    /// <summary>Samples drawn after training.</summary>
    public SamplingSettings Sampling { get; set; } = new();

    /// <summary>The memorization analysis of those samples.</summary>
    public MemorizationSection Memorization { get; set; } = new();

    /// <summary>Sample quality (FD, KID, precision/recall, density/coverage) in the configured feature spaces.</summary>
    public EvaluationSection Evaluation { get; set; } = new();

    /// <summary>Where and how the computation runs.</summary>
    public DeviceSettings Device { get; set; } = new();

    /// <summary>A grid of runs (only in sweep configs).</summary>
    public SweepSection? Sweep { get; set; }

    /// <summary>A self-consuming loop of generations (only in loop configs, run by <c>ambient loop</c>).</summary>
    public Loops.LoopSettings? Loop { get; set; }

    /// <summary>Expectation–maximization from the corrupted observations (only in EM configs, run by <c>ambient em</c>).</summary>
    public Em.EmSettings? Em { get; set; }

    /// <summary>Checks every value; the message names the key path and what was expected.</summary>
    public void Validate()
    {
        Check(!string.IsNullOrWhiteSpace(Name) && Name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && Name is not ("." or ".."), "name", Name, "a non-empty run name usable as a folder name");
        if (string.IsNullOrWhiteSpace(Data.Corrupted))
        {
            Check(Corruption is not null, "corruption", null, "a corruption section (or data.corrupted naming a corrupted dataset file)");
            Check(Dataset is not null || !string.IsNullOrWhiteSpace(Data.Prepared), "dataset", null, "a dataset section (or data.prepared naming a prepared dataset file)");
        }
        else
        {
            Check(Corruption is null, "corruption", "(a section)", "no corruption section when data.corrupted names an already corrupted dataset");
        }
        Check(Dataset is null || string.IsNullOrWhiteSpace(Data.Prepared), "data.prepared", Data.Prepared, "empty when a dataset section is given (one source of clean data)");
        if (Dataset is not null) Within("dataset", Dataset.Validate);
        if (Corruption is not null) Within("corruption", Corruption.Validate);
        Within("model", Model.Validate);
        Within("loss", Loss.Validate);
        Within("training", Training.Validate);
        Within("sampling", Sampling.Validate);
        Within("memorization", Memorization.Validate);
        Within("evaluation", Evaluation.Validate);
        Within("device", Device.Validate);
        Sweep?.Validate();
        if (Loop is not null) ValidateLoop(Loop);
        if (Em is not null) ValidateEm(Em);
        ValidateAnalysisSizes();
    }

    /// <summary>
    /// The sizes the evaluation and the memorization analysis need, as far as the config alone tells them, so that a
    /// run too small for its own analysis fails before training instead of after it. The bounds are the metrics' own
    /// (<see cref="QualityEvaluator.RowsNeeded"/>, <see cref="MemorizationAnalyzer.MinimumRows"/>); a prepared file's
    /// held-out count is checked before training by the pipeline.
    /// </summary>
    private void ValidateAnalysisSizes()
    {
        if (Evaluation.Enabled && Dataset is { Heldout: > 0 } dataset)
        {
            var heldOutNeeded = QualityEvaluator.ReferenceRowsNeeded(Evaluation.K, splitFloor: true);
            // No held-out images means no evaluation (it is skipped); a few are a mistake.
            Check(dataset.Heldout >= heldOutNeeded, "dataset.heldout", dataset.Heldout,
                $"0 (no evaluation) or at least {heldOutNeeded} held-out images: the samples are compared with all of them, the floor with two disjoint halves of at least {QualityEvaluator.RowsNeeded(Evaluation.K)} (evaluation.k = {Evaluation.K})");
            CheckSamplesForEvaluation(null);
        }
        if (Memorization.Enabled && (Dataset is not null || !string.IsNullOrWhiteSpace(Data.Prepared)))
        {
            var needed = MemorizationAnalyzer.MinimumRows;
            var (samples, key, value) = SamplesDrawn();
            Check(samples == 0 || samples >= needed, key, value, $"at least {needed} samples for the memorization analysis (the Fréchet distance of its quality.json), or memorization.enabled: false");
            Check(Dataset is not { Heldout: 1 }, "dataset.heldout", Dataset?.Heldout, $"0 or at least {needed} held-out images (the memorization analysis's train-vs-held-out Fréchet distance)");
            Check(Dataset is not { Count: 1 }, "dataset.count", Dataset?.Count, $"0 (all) or at least {needed} training images (the memorization analysis's d2 and train->train baseline)");
        }
    }

    /// <summary>Samples each run (or each loop generation) draws, and the key that sets their number.</summary>
    private (int Count, string Key, object Value) SamplesDrawn() =>
        Loop is { } loop ? (loop.SyntheticCount, "loop.synthetic_count", loop.SyntheticCount) : (Sampling.SeedList().Count, "sampling.seeds", Sampling.Seeds);

    /// <summary>Throws unless the samples drawn are enough for the evaluation's metrics (none drawn: no evaluation).
    /// <paramref name="heldOutFile"/> names the prepared file whose held-out images make the evaluation run, when it
    /// is a file rather than this config's dataset section.</summary>
    public void CheckSamplesForEvaluation(string? heldOutFile)
    {
        var (samples, key, value) = SamplesDrawn();
        var needed = QualityEvaluator.RowsNeeded(Evaluation.K);
        var against = heldOutFile is null ? "the held-out images" : $"the held-out images of {heldOutFile}";
        Check(samples == 0 || samples >= needed, key, value,
            $"at least {needed} samples to evaluate against {against} (precision/recall/density/coverage with evaluation.k = {Evaluation.K} need k + 1 rows, FD and KID {FrechetDistance.MinimumRows}): draw more, lower evaluation.k, or set evaluation.enabled: false");
    }

    private void ValidateLoop(Loops.LoopSettings loop)
    {
        Within("loop", loop.Validate);
        Check(Dataset is not null || !string.IsNullOrWhiteSpace(Data.Prepared), "loop", "(a section)", "a dataset section or data.prepared: a loop needs the clean images' held-out split to evaluate every generation");
        Check(string.IsNullOrWhiteSpace(Data.Corrupted), "data.corrupted", Data.Corrupted, "empty in a loop config (the loop corrupts the prepared images itself)");
        Check(loop.SyntheticAs != Loops.SyntheticUse.Noisy || Loss.Kind is Diffusion.LossKind.Edm or Diffusion.LossKind.Tweedie, "loop.synthetic_as", loop.SyntheticAs,
            $"data unless loss.kind is edm or tweedie: the noisy-data (Tweedie) loss of the ambient arm cannot share a batch with the {Common.Yaml.EnumName(Loss.Kind)} loss");
        Check(Sweep is null, "sweep", "(a section)", "no sweep section in a loop config (run one loop config per arm)");
        // With dataset.count the real pool is known now: its draws are checked before any data are prepared.
        if (Dataset is { Count: > 0 } dataset) Within("loop", () => _ = new Loops.LoopComposition(loop, dataset.Count, Seed));
    }

    private void ValidateEm(Em.EmSettings em)
    {
        Within("em", em.Validate);
        Check(Dataset is not null || !string.IsNullOrWhiteSpace(Data.Prepared), "em", "(a section)", "a dataset section or data.prepared: EM evaluates every round against the clean images' held-out split");
        Check(Loss.Kind == Diffusion.LossKind.Edm, "loss.kind", Loss.Kind, "edm in an EM config: every M-step trains plain EDM on the E-step's posterior samples");
        Check(Loop is null, "loop", "(a section)", "no loop section in an EM config");
        Check(Sweep is null, "sweep", "(a section)", "no sweep section in an EM config (run one EM config per arm)");
    }

    internal static void Check(bool ok, string key, object? value, string expected)
    {
        if (!ok) Fail(key, value, expected);
    }

    internal static void Fail(string key, object? value, string expected) =>
        throw new ConfigException($"{key} = {Format(value)}: expected {expected}", key);

    /// <summary>Runs a section's checks; a <see cref="SettingException"/> becomes a <see cref="ConfigException"/> naming the
    /// key path <c>section.setting</c>, so the loader can point at its line and column.</summary>
    internal static void Within(string section, Action validate)
    {
        try
        {
            validate();
        }
        catch (SettingException e)
        {
            throw new ConfigException($"{section}.{e.Message}", $"{section}.{e.Setting}");
        }
    }

    internal static string Format(object? value) => SettingException.Format(value);
}
