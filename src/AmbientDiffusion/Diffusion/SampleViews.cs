namespace AmbientDiffusion.Diffusion;

/// <summary>
/// Nearby starting noises (GenRep's views): sample b starts from (x_T + s·ε_v)/√(1 + s²) instead of x_T, where x_T is
/// its seed's starting noise and ε_v the (v + 1)-th standard normal image its seed's generator draws after x_T. Samples
/// that share a seed but differ in view start close together (correlation 1/(1 + s²)) and stay standard normal. The
/// churn noise of view v follows ε_v in the same generator, so a view's image is a function of (seed, view, class, g).
/// </summary>
/// <param name="Views">The view index of each sample (0-based).</param>
/// <param name="Scale">s, the size of the perturbation relative to the starting noise.</param>
public sealed record SampleViews(IReadOnlyList<int> Views, double Scale)
{
    /// <summary>Throws <see cref="ArgumentException"/> unless the views fit <paramref name="count"/> samples.</summary>
    public void Check(int count)
    {
        if (Views.Count != count) throw new ArgumentException($"{Views.Count} view indices for {count} samples");
        if (Views.Any(v => v is < 0 or > 1_000_000)) throw new ArgumentException("view indices must lie in 0 to 1000000");
        if (!(Scale >= 0 && double.IsFinite(Scale))) throw new ArgumentException($"view scale {Scale} must be a finite number >= 0");
    }
}
