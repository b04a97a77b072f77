using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Membership;

/// <summary>What <see cref="MembershipAnalyzer.Run(MembershipOptions, IProgress{MembershipProgress}?)"/> reads and writes.</summary>
public sealed record MembershipOptions
{
    /// <summary>The attacked checkpoint.</summary>
    public required string CheckpointPath { get; init; }

    /// <summary>The clean training set (a prepared dataset): the members, and its held-out images the non-members.</summary>
    public required string TrainPath { get; init; }

    /// <summary>Non-members from another file (a prepared dataset's images or a samples file); null: the training
    /// file's held-out images.</summary>
    public string? HeldOutPath { get; init; }

    /// <summary>The corrupted dataset the model was trained on (its masks, for the corruption-aware attack); null
    /// skips that attack.</summary>
    public string? CorruptedPath { get; init; }

    /// <summary>Folder for membership.json, membership.csv and the ROC charts (created if needed).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>The attacks' settings.</summary>
    public MembershipSettings Settings { get; init; } = new();

    /// <summary>The intervals' settings.</summary>
    public BootstrapSettings Bootstrap { get; init; } = new();
}

/// <summary>Progress of the attacks: images scored out of all the attacks will score.</summary>
public sealed record MembershipProgress(int Done, int Total);
