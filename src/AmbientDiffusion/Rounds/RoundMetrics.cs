using System.Globalization;
using AmbientDiffusion.Experiments;

namespace AmbientDiffusion.Rounds;

/// <summary>A metric summarised per round: its column, the sweep summary's key (empty: read elsewhere) and a chart title.</summary>
public sealed record RoundMetric(string Column, string Key, string Title);

/// <summary>
/// The metrics every round's run directory reports (read from its report by <see cref="SweepSummary.Read"/>): FD, KID,
/// precision, recall, density and coverage against held-out real images in the evaluation space, and the memorization
/// of the round's samples against its clean training images; with the mean ± sd formatting of the summaries.
/// </summary>
public static class RoundMetrics
{
    /// <summary>The evaluation and memorization metrics, in column order.</summary>
    public static readonly IReadOnlyList<RoundMetric> Quality =
    [
        new("fd", "eval_fd", "FD to held-out real images"),
        new("kid", "eval_kid", "KID to held-out real images"),
        new("precision", "eval_precision", "precision"),
        new("recall", "eval_recall", "recall"),
        new("density", "eval_density", "density"),
        new("coverage", "eval_coverage", "coverage"),
        new("memorized", "ratio_below_third", "memorized fraction (d1/d2 < 1/3, own training set)"),
        new("d1_median", "d1_median", "median distance to own training set (pixels)"),
    ];

    /// <summary>The values of <paramref name="metrics"/> (those with a key) that <paramref name="run"/>'s report holds.</summary>
    public static Dictionary<string, double> Read(RunDirectory run, IEnumerable<RoundMetric> metrics)
    {
        var report = SweepSummary.Read(run.Report) ?? [];
        return metrics.Where(m => m.Key.Length > 0 && report.ContainsKey((m.Key, "samples"))).ToDictionary(m => m.Column, m => report[(m.Key, "samples")]);
    }

    /// <summary>"mean ± sd" over the values (sd over n − 1), the mean alone for one value, empty for none.</summary>
    public static string Spread(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return "";
        var mean = values.Average();
        if (values.Count == 1) return Format(mean);
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return $"{Format(mean)} ± {Format(sd)}";
    }

    /// <summary>A value for a summary table: one decimal from 100 up, else up to four.</summary>
    public static string Format(double value) => value.ToString(Math.Abs(value) >= 100 ? "0.#" : "0.####", CultureInfo.InvariantCulture);
}
