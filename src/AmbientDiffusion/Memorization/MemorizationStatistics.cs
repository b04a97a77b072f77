namespace AmbientDiffusion.Memorization;

/// <summary>The per-query numbers of one set in one space, before they are summarised.</summary>
internal sealed record NeighborValues(string Set, int Fallbacks, double[] First, double[] Second, double[] CarliniMean);

/// <summary>Spec §6's summaries: distributions, histograms on shared axes, and the memorization fractions.</summary>
public static class MemorizationStatistics
{
    /// <summary>The percentiles every distribution reports.</summary>
    public static readonly int[] PercentileLevels = [1, 5, 25, 50, 75, 95, 99];

    /// <summary>Min, mean, max and <see cref="PercentileLevels"/> of <paramref name="values"/> (non-empty).</summary>
    public static Distribution Describe(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values to describe", nameof(values));
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double sum = 0;
        foreach (var v in sorted) sum += v;
        return new Distribution(sorted[0], sum / sorted.Length, sorted[^1], PercentileLevels.Select(q => new Percentile(q, Quantile(sorted, q / 100.0))).ToArray());
    }

    /// <summary>Quantile of sorted values by linear interpolation between closest ranks.</summary>
    public static double Quantile(ReadOnlySpan<double> sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(position);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        var t = position - lo;
        return t == 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * t;
    }

    /// <summary>Counts of <paramref name="values"/> in <paramref name="bins"/> equal bins of [lo, hi].</summary>
    public static Histogram Bin(IReadOnlyList<double> values, double lo, double hi, int bins)
    {
        var counts = new long[bins];
        var width = (hi - lo) / bins;
        foreach (var v in values)
        {
            var b = width > 0 ? (int)Math.Floor((v - lo) / width) : 0;
            counts[Math.Clamp(b, 0, bins - 1)]++;
        }
        return new Histogram(lo, hi, counts);
    }

    /// <summary>Fraction of <paramref name="values"/> for which <paramref name="test"/> holds.</summary>
    public static double Fraction(IReadOnlyList<double> values, Func<double, bool> test) =>
        values.Count == 0 ? 0 : (double)values.Count(test) / values.Count;

    /// <summary>The smallest "nice" number (1, 2, 2.5 or 5 times a power of ten) at least <paramref name="value"/> (> 0).</summary>
    public static double NiceCeiling(double value)
    {
        if (!(value > 0)) return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
            if (step * power >= value * (1 - 1e-12)) return step * power;
        return 10 * power;
    }

    /// <summary>
    /// Per-query values of a distance space from squared L2 distances over <paramref name="dimension"/> features:
    /// d1, d2 (RMS) and the mean RMS distance to the nearest <paramref name="carliniNeighbors"/> (all when fewer).
    /// </summary>
    internal static NeighborValues DistanceValues(string set, KnnResult knn, long dimension, int carliniNeighbors)
    {
        var n = knn.Queries;
        var (first, second, carlini) = (new double[n], new double[n], new double[n]);
        var averaged = Math.Min(carliniNeighbors, knn.K);
        for (var i = 0; i < n; i++)
        {
            first[i] = Rms(knn.SquaredDistance(i, 0), dimension);
            second[i] = knn.K > 1 ? Rms(knn.SquaredDistance(i, 1), dimension) : double.NaN;
            double sum = 0;
            for (var j = 0; j < averaged; j++) sum += Rms(knn.SquaredDistance(i, j), dimension);
            carlini[i] = sum / averaged;
        }
        return new NeighborValues(set, knn.ExactFallbacks, first, second, carlini);
    }

    /// <summary>Per-query top-1 cosine similarity of unit rows: 1 - |a - b|^2 / 2, clamped to [-1, 1].</summary>
    internal static NeighborValues CosineValues(string set, KnnResult knn)
    {
        var first = new double[knn.Queries];
        for (var i = 0; i < first.Length; i++) first[i] = Math.Clamp(1 - knn.SquaredDistance(i, 0) / 2.0, -1, 1);
        return new NeighborValues(set, knn.ExactFallbacks, first, [], []);
    }

    /// <summary>RMS distance from a squared L2 distance.</summary>
    public static double Rms(double squared, long dimension) => Math.Sqrt(Math.Max(0, squared) / dimension);

    /// <summary>The summaries of a distance space's sets, histograms on one axis [0, nice max of d1].</summary>
    internal static IReadOnlyList<SetMetrics> SummariseDistances(IReadOnlyList<NeighborValues> sets, double carliniAlpha, int bins,
        BootstrapSettings? bootstrap = null, string space = "")
    {
        var hi = NiceCeiling(sets.SelectMany(s => s.First).DefaultIfEmpty(0).Max());
        return sets.Select(s =>
        {
            var n = s.First.Length;
            var ratio = 0;
            var carlini = 0;
            var flags = new Dictionary<string, bool[]>
            {
                [SetMetrics.NearCopyShareKey] = s.First.Select(d => d < 0.05).ToArray(),
                ["frac_d1_lt_0_1"] = s.First.Select(d => d < 0.1).ToArray(),
                [SetMetrics.FlaggedShareKey] = new bool[n],
                ["frac_carlini"] = new bool[n],
            };
            for (var i = 0; i < n; i++)
            {
                if (s.First[i] == 0 || s.First[i] < s.Second[i] / 3) { ratio++; flags[SetMetrics.FlaggedShareKey][i] = true; }
                if (s.First[i] < carliniAlpha * s.CarliniMean[i]) { carlini++; flags["frac_carlini"][i] = true; }
            }
            return new SetMetrics
            {
                Set = s.Set,
                Queries = n,
                ExactFallbacks = s.Fallbacks,
                D1 = Describe(s.First),
                D2 = Describe(s.Second),
                D1Histogram = Bin(s.First, 0, hi, bins),
                FracD1Below005 = Fraction(s.First, d => d < 0.05),
                FracD1Below01 = Fraction(s.First, d => d < 0.1),
                FracRatioBelowThird = (double)ratio / n,
                FracCarlini = (double)carlini / n,
                Intervals = Intervals(flags, bootstrap, space, s.Set),
            };
        }).ToArray();
    }

    /// <summary>The summaries of a cosine space's sets, histograms on one axis [nice floor of the minimum, 1].</summary>
    internal static IReadOnlyList<SetMetrics> SummariseCosines(IReadOnlyList<NeighborValues> sets, int bins, BootstrapSettings? bootstrap = null, string space = "")
    {
        var min = sets.SelectMany(s => s.First).DefaultIfEmpty(0).Min();
        var lo = Math.Max(-1, 1 - NiceCeiling(1 - min));
        if (lo >= 1) lo = 0.9;
        return sets.Select(s => new SetMetrics
        {
            Set = s.Set,
            Queries = s.First.Length,
            ExactFallbacks = s.Fallbacks,
            Cos1 = Describe(s.First),
            Cos1Histogram = Bin(s.First, lo, 1, bins),
            FracCosAbove050 = Fraction(s.First, c => c > 0.5),
            FracCosAbove090 = Fraction(s.First, c => c > 0.9),
            FracCosAbove095 = Fraction(s.First, c => c > 0.95),
            FracCosAbove099 = Fraction(s.First, c => c > 0.99),
            Intervals = Intervals(new Dictionary<string, bool[]>
            {
                ["frac_cos_gt_0_5"] = s.First.Select(c => c > 0.5).ToArray(),
                ["frac_cos_gt_0_90"] = s.First.Select(c => c > 0.9).ToArray(),
                ["frac_cos_gt_0_95"] = s.First.Select(c => c > 0.95).ToArray(),
                ["frac_cos_gt_0_99"] = s.First.Select(c => c > 0.99).ToArray(),
            }, bootstrap, space, s.Set),
        }).ToArray();
    }

    /// <summary>The bootstrap interval of each stated fraction (keyed like its JSON field), each from its own stream
    /// (space, set, fraction); null when intervals are switched off.</summary>
    private static IReadOnlyDictionary<string, ConfidenceInterval>? Intervals(Dictionary<string, bool[]> flags, BootstrapSettings? bootstrap, string space, string set)
    {
        if (bootstrap is null || bootstrap.Resamples == 0) return null;
        var intervals = new SortedDictionary<string, ConfidenceInterval>(StringComparer.Ordinal);
        foreach (var (name, values) in flags)
            if (Bootstrap.Proportion(values, bootstrap, $"{space}/{set}/{name}") is { } interval) intervals[name] = interval;
        return intervals;
    }
}
