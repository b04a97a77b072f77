using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Membership;

/// <summary>Which side of the attack a set of images is on.</summary>
public enum CandidateRole
{
    /// <summary>Training images: the attack should call them members.</summary>
    Members = 0,

    /// <summary>Held-out images of the same distribution.</summary>
    NonMembers = 1,
}

/// <summary>
/// The images one side of an attack scores: clean images in [-1, 1] (float32 [N, C, H, W] on the CPU), their indices
/// in their file, their class ids where known and, for members of a model trained on masked data, the observation
/// mask each one was trained with (float 0/1 [N, Cm, H, W]; what the corruption-aware attack assumes the attacker knows).
/// </summary>
/// <param name="Role">Members or non-members.</param>
/// <param name="Source">The file they come from and its tensor, for the report.</param>
/// <param name="Indices">Index of each image in its tensor.</param>
/// <param name="Images">The clean images.</param>
/// <param name="Labels">Class ids, or null when the file has none.</param>
/// <param name="ObservedMasks">Training masks (members of a masked run), or null.</param>
public sealed record CandidateSet(CandidateRole Role, string Source, int[] Indices, Tensor Images, long[]? Labels, Tensor? ObservedMasks)
{
    /// <summary>Number of images.</summary>
    public int Count => Indices.Length;

    /// <summary>The report's name of the role: members or non_members.</summary>
    public string Name => Role == CandidateRole.Members ? "members" : "non_members";
}
