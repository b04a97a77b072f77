using System.Globalization;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// The sentence a report opens with, readable in five seconds: how many samples the copy test flags, against the rate
/// among held-out images (real images the model never saw: the chance level), and whether samples sit closer to the
/// training set than held-out images do. Built from the flags that separate copies from chance at small training-set
/// sizes: the d1/d2 ratio test in pixel space and, in feature spaces, the samples' median top-1 cosine beside the
/// held-out images' (plus the fraction above the copy threshold where one is calibrated: SSCD 0.5, DINOv2 0.95).
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
            var interval = samples.Intervals?.GetValueOrDefault(SetMetrics.FlaggedShareKey) is { } ci
                ? $"; {Percent(ci.Level)} interval {Percent(ci.Lo)}–{Percent(ci.Hi)}" : "";
            parts.Add($"{flagged} of {samples.Queries} samples within the copy threshold (pixel d1/d2 < 1/3{interval})"
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
        {
            if (space.Set(MemorizationAnalyzer.SamplesSet) is not { Cos1: { } cos } set) continue;
            var heldOut = space.Set(MemorizationAnalyzer.HeldOutBaseline);
            // A fixed copy threshold means something only in the space it was calibrated for (SSCD 0.5, DINOv2 0.95);
            // elsewhere (the classifier's ReLU features sit at cosines near 1 for any two garments) the held-out median is the yardstick.
            (double Value, double? Fraction, double? Chance)? threshold = space.Name switch
            {
                "sscd" => (0.5, set.FracCosAbove050, heldOut?.FracCosAbove050),
                "dinov2" => (0.95, set.FracCosAbove095, heldOut?.FracCosAbove095),
                _ => null,
            };
            var text = $"{space.Name}: median top-1 cosine {Number(cos.At(50))}" + (heldOut?.Cos1 is { } held ? $" (held-out {Number(held.At(50))})" : "");
            if (threshold is { Fraction: { } frac } t)
                text += $", {Percent(frac)} of samples above {Number(t.Value)}" + (t.Chance is { } chance ? $" (held-out {Percent(chance)})" : "");
            parts.Add(text);
        }
        return parts.Count == 0 ? "No pixel-space statistics were computed." : string.Join("; ", parts) + ".";
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
