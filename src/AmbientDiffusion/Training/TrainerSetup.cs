using AmbientDiffusion.Common;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;

namespace AmbientDiffusion.Training;

/// <summary>
/// Everything a <see cref="Trainer"/> needs besides the corrupted data, as domain records (made from a config by the
/// composition root, <c>Experiments.ExperimentComposition</c>). The trainer learns the loss only through
/// <see cref="LossFactory"/> and never sees the config itself: <see cref="ResolvedConfig"/> is recorded, not read.
/// </summary>
public sealed record TrainerSetup
{
    /// <summary>Seed of everything random in training (σ, noise, further corruption, shuffling, dropout, init).</summary>
    public required ulong Seed { get; init; }

#pragma warning disable CS1591
    public required ModelSettings Model { get; init; }
    public required LossSettings Loss { get; init; }
    public required TrainingSettings Training { get; init; }
    public required DeviceSettings Device { get; init; }
#pragma warning restore CS1591

    /// <summary>Mirror images and masks together at random.</summary>
    public bool Flip { get; init; } = true;

    /// <summary>The resolved config as YAML, recorded in every checkpoint (provenance; the model and loss are read back from it).</summary>
    public required string ResolvedConfig { get; init; }

    /// <summary>Folder of the run's checkpoints.</summary>
    public required string CheckpointDirectory { get; init; }

    /// <summary>The run's metrics log (JSON lines).</summary>
    public required string MetricsFile { get; init; }

    /// <summary>Folder of the run's TensorBoard event files (each tick's scalars beside metrics.jsonl), or null for none.</summary>
    public string? TensorBoardDirectory { get; init; }

    /// <summary>This process's place in a data-parallel job (default: a single process).</summary>
    public DataParallel Parallel { get; init; } = DataParallel.Single;
}
