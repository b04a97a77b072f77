using System.Globalization;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// The sentence a report opens with, readable in five seconds: how many samples the copy test flags, against the rate
/// among held-out images (real images the model never saw: the chance level), and whether samples sit closer to the
/// training set than held-out images do. Built from the flags that separate copies from chance at small training-set
/// sizes: the d1/d2 ratio test in pixel space and, in cosine spaces, the top-1 similarity above the copy threshold.
/// </summary>
public static class MemorizationVerdict
{
    /// <summary>Held-out → train median d1 counts as "no closer" down to this fraction of itself (sampling noise).</summary>
    public const double CloserTolerance = 0.9;

    /// <summary>The verdict of <paramref name="report"/>.</summary>
    public static string Describe(MemorizationReport report)
    {
        var parts = new List<string>();
        if (report.Space("pixels") is { } pixels && pixels.Set(MemorizationAnalyzer.SamplesSet) is { } samples)
        {
            var flagged = (int)Math.Round((samples.FracRatioBelowThird ?? 0) * samples.Queries);
            var heldOut = pixels.Set(MemorizationAnalyzer.HeldOutBaseline);
            parts.Add($"{flagged} of {samples.Queries} samples within the copy threshold (pixel d1/d2 < 1/3)"
                + (heldOut?.FracRatioBelowThird is { } chance ? $", against {Percent(chance)} of held-out images" : ""));
            if (samples.D1 is { } d1 && heldOut?.D1 is { } heldD1)
            {
                var (ours, theirs) = (d1.At(50), heldD1.At(50));
                parts.Add(ours >= CloserTolerance * theirs
                    ? $"samples sit no closer to the training set than held-out images do (median d1 {Number(ours)} vs {Number(theirs)})"
                    : $"samples sit closer to the training set than held-out images do (median d1 {Number(ours)} vs {Number(theirs)}): look at the closest pairs below");
            }
        }
        foreach (var space in report.Spaces.Where(s => s.Metric == "cosine" && s.Name != "normalized_cosine"))
            if (space.Set(MemorizationAnalyzer.SamplesSet) is { FracCosAbove095: { } frac } set)
                parts.Add($"{space.Name}: {Percent(frac)} of samples above cosine 0.95" +
                    (space.Set(MemorizationAnalyzer.HeldOutBaseline)?.FracCosAbove095 is { } chance ? $" (held-out: {Percent(chance)})" : "") + $" of {set.Queries}");
        return parts.Count == 0 ? "No pixel-space statistics were computed." : string.Join("; ", parts) + ".";
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
