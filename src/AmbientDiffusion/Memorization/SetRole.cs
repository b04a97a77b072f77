namespace AmbientDiffusion.Memorization;

/// <summary>What a set of images is in an analysis.</summary>
public enum SetRole
{
    /// <summary>Generated samples, the queries.</summary>
    Samples,

    /// <summary>The clean training set, the reference searched.</summary>
    Train,

    /// <summary>Real images never trained on: the baseline of what "no closer than chance" looks like.</summary>
    HeldOut,

    /// <summary>The real images a quality metric compares samples with.</summary>
    Reference,

    /// <summary>A second real set, disjoint from the reference, that a metric's floor is measured on.</summary>
    Floor,
}

/// <summary>The names roles have in reports and messages.</summary>
public static class SetRoles
{
    /// <summary><c>samples</c>, <c>train</c> or <c>heldout</c>.</summary>
    public static string Name(this SetRole role) => role switch
    {
        SetRole.Samples => "samples",
        SetRole.Train => "train",
        SetRole.HeldOut => "heldout",
        SetRole.Reference => "reference",
        SetRole.Floor => "floor",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };
}
