using System.Text.Json.Serialization;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Membership;

/// <summary>The ROC summary of one attack: AUC and TPR at fixed FPRs, each with its bootstrap interval.</summary>
public sealed record AttackResult
{
    /// <summary>loss, loss_observed or pia.</summary>
    public required string Name { get; init; }

    /// <summary>What the score is.</summary>
    public required string Description { get; init; }

    /// <summary>Members scored.</summary>
    public required int Members { get; init; }

    /// <summary>Non-members scored.</summary>
    public required int NonMembers { get; init; }

    /// <summary>Area under the ROC curve (Mann–Whitney, ties one half); 0.5 is chance.</summary>
    public required double Auc { get; init; }

    /// <summary>Bootstrap interval of the AUC (members and non-members resampled separately).</summary>
    public ConfidenceInterval? AucInterval { get; init; }

    /// <summary>Largest TPR with FPR ≤ 1%.</summary>
    [JsonPropertyName("tpr_at_1pct_fpr")]
    public required double TprAt1PctFpr { get; init; }

    /// <summary>Its bootstrap interval.</summary>
    [JsonPropertyName("tpr_at_1pct_fpr_interval")]
    public ConfidenceInterval? TprAt1PctFprInterval { get; init; }

    /// <summary>Largest TPR with FPR ≤ 0.1%.</summary>
    [JsonPropertyName("tpr_at_0_1pct_fpr")]
    public required double TprAt01PctFpr { get; init; }

    /// <summary>Its bootstrap interval.</summary>
    [JsonPropertyName("tpr_at_0_1pct_fpr_interval")]
    public ConfidenceInterval? TprAt01PctFprInterval { get; init; }

    /// <summary>The AUC of the score at each noise level alone (attacks that average over levels).</summary>
    public IReadOnlyList<SigmaAuc> PerSigma { get; init; } = [];
}

/// <summary>The AUC of an attack at one noise level.</summary>
public sealed record SigmaAuc(double Sigma, double Auc);

/// <summary>One side of the attack as the report records it.</summary>
/// <param name="Source">File and tensor the images came from.</param>
/// <param name="Available">Images there.</param>
/// <param name="Scored">Images scored (a seeded subset when more than the settings' max_images).</param>
/// <param name="Labelled">Whether their class ids were known (and given to a class-conditional model).</param>
public sealed record CandidateSource(string Source, int Available, int Scored, bool Labelled);

/// <summary>Everything membership.json holds (written snake_case).</summary>
public sealed record MembershipReport
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string FormatName = "ambient/membership-report/1";

    /// <summary>The file format.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>Tool and libtorch versions.</summary>
    public required string Version { get; init; }

    /// <summary>The attacked checkpoint ("" for a model handed in directly).</summary>
    public required string Checkpoint { get; init; }

    /// <summary>Its training progress in thousands of images (NaN when unknown).</summary>
    public required double Kimg { get; init; }

    /// <summary>EMA or raw weights.</summary>
    public required string Weights { get; init; }

    /// <summary>Whether the model takes masks (trained on masked data).</summary>
    public required bool MaskedModel { get; init; }

    /// <summary>The members: the run's clean training images.</summary>
    public required CandidateSource Members { get; init; }

    /// <summary>The non-members: held-out images of the same distribution.</summary>
    public required CandidateSource NonMembers { get; init; }

    /// <summary>The attacks' settings.</summary>
    public required MembershipSettings Settings { get; init; }

    /// <summary>How the intervals were computed.</summary>
    public required BootstrapSettings Bootstrap { get; init; }

    /// <summary>What was skipped or what limits a number, and why.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>One entry per attack run.</summary>
    public required IReadOnlyList<AttackResult> Attacks { get; init; }

    /// <summary>The attack named <paramref name="name"/>, or null.</summary>
    public AttackResult? Attack(string name) => Attacks.FirstOrDefault(a => a.Name == name);
}
