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

    /// <summary>The set in consecutive batches of at most <paramref name="batchSize"/> images, in order.</summary>
    public IEnumerable<CandidateBatch> Batches(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (var start = 0; start < Count; start += batchSize)
            yield return new CandidateBatch(this, start, Math.Min(batchSize, Count - start));
    }
}

/// <summary>
/// Images [Start, Start + Count) of a <see cref="CandidateSet"/>. The tensor views are taken on request, so they
/// belong to the dispose scope the caller opened for the batch.
/// </summary>
/// <param name="Set">The set the batch is cut from.</param>
/// <param name="Start">Position of the first image in the set.</param>
/// <param name="Count">Number of images.</param>
public sealed record CandidateBatch(CandidateSet Set, int Start, int Count)
{
    /// <summary>Index of each image in its file.</summary>
    public int[] Indices => Set.Indices.AsSpan(Start, Count).ToArray();

    /// <summary>Class ids, or null when the file has none.</summary>
    public long[]? Labels => Set.Labels?.AsSpan(Start, Count).ToArray();

    /// <summary>The clean images (a view).</summary>
    public Tensor Images() => Set.Images.narrow(0, Start, Count);

    /// <summary>The members' training masks (a view), or null.</summary>
    public Tensor? ObservedMasks() => Set.ObservedMasks?.narrow(0, Start, Count);
}
