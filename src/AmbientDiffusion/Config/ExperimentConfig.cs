using System.Globalization;

namespace AmbientDiffusion.Config;

/// <summary>
/// One experiment, as written in YAML (snake_case keys): where the clean data come from (<c>dataset</c>), how they are
/// corrupted once (<c>corruption</c>), the model, the objective, training, sampling, the memorization analysis and the
/// device; plus an optional <c>sweep</c> grid. Defaults are the paper's where it has one and a small CPU-friendly
/// choice otherwise; configs/README.md documents every key. <see cref="Validate"/> checks every range and names the
/// key path.
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
    public ModelSection Model { get; set; } = new();

    /// <summary>The objective.</summary>
    public LossSection Loss { get; set; } = new();

    /// <summary>Optimisation and bookkeeping.</summary>
    public TrainingSection Training { get; set; } = new();

    /// <summary>Samples drawn after training.</summary>
    public SamplingSection Sampling { get; set; } = new();

    /// <summary>The memorization analysis of those samples.</summary>
    public MemorizationSection Memorization { get; set; } = new();

    /// <summary>Where and how the computation runs.</summary>
    public DeviceSection Device { get; set; } = new();

    /// <summary>A grid of runs (only in sweep configs).</summary>
    public SweepSection? Sweep { get; set; }

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
        Dataset?.Validate();
        Corruption?.Validate();
        Model.Validate();
        Loss.Validate();
        Training.Validate();
        Sampling.Validate();
        Memorization.Validate();
        Device.Validate();
        Sweep?.Validate();
    }

    internal static void Check(bool ok, string key, object? value, string expected)
    {
        if (!ok) Fail(key, value, expected);
    }

    internal static void Fail(string key, object? value, string expected) =>
        throw new ConfigException($"{key} = {Format(value)}: expected {expected}", key);

    internal static string Format(object? value) => value switch
    {
        null => "(missing)",
        double d => d.ToString(CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object>().Select(Format)) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
