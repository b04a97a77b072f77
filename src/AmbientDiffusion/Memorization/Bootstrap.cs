using AmbientDiffusion.Common;

namespace AmbientDiffusion.Memorization;

/// <summary>A confidence interval of a reported number: [Lo, Hi] at <see cref="Level"/>, by the percentile bootstrap
/// over <see cref="Resamples"/> resamples.</summary>
/// <param name="Lo">Lower end.</param>
/// <param name="Hi">Upper end.</param>
/// <param name="Level">Nominal coverage.</param>
/// <param name="Resamples">Bootstrap resamples it was computed from.</param>
public sealed record ConfidenceInterval(double Lo, double Hi, double Level, int Resamples)
{
    /// <summary>Whether <paramref name="value"/> lies in [Lo, Hi].</summary>
    public bool Contains(double value) => value >= Lo && value <= Hi;
}

/// <summary>
/// The percentile bootstrap (Efron and Tibshirani 1993, ch. 13): resample the observations with replacement, recompute
/// the statistic, and take the central <see cref="BootstrapSettings.Level"/> share of the resampled values. Each
/// interval draws from the stream (seed, <see cref="RandomStream.Bootstrap"/>, key), so a report's intervals are
/// reproducible and independent of one another's order.
/// </summary>
public static class Bootstrap
{
    /// <summary>Keys of the intervals a report draws, one per reported number, so no two share draws by accident.</summary>
    public static ulong Key(string name)
    {
        // FNV-1a over the name: stable across runs and platforms (string.GetHashCode is randomised per process).
        var hash = 14695981039346656037UL;
        foreach (var c in name) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }

    /// <summary>The interval of the share of true values in <paramref name="flags"/> (null with no resamples or no values).</summary>
    public static ConfidenceInterval? Proportion(IReadOnlyList<bool> flags, BootstrapSettings settings, string name)
    {
        if (settings.Resamples == 0 || flags.Count == 0) return null;
        var random = RandomStreams.For(RandomStream.Bootstrap, settings.Seed, Key(name));
        var n = flags.Count;
        var values = new double[settings.Resamples];
        for (var b = 0; b < values.Length; b++)
        {
            var count = 0;
            for (var i = 0; i < n; i++)
                if (flags[random.NextInt(n)]) count++;
            values[b] = (double)count / n;
        }
        return Percentile(values, settings);
    }

    /// <summary>The interval of a statistic of two samples (members and non-members), each resampled with replacement
    /// within itself, so that every resample keeps both sizes (a stratified bootstrap, as for an AUC).</summary>
    public static ConfidenceInterval? TwoSample(IReadOnlyList<double> first, IReadOnlyList<double> second, Func<double[], double[], double> statistic,
        BootstrapSettings settings, string name)
    {
        if (settings.Resamples == 0 || first.Count == 0 || second.Count == 0) return null;
        var random = RandomStreams.For(RandomStream.Bootstrap, settings.Seed, Key(name));
        var (a, b) = (new double[first.Count], new double[second.Count]);
        var values = new double[settings.Resamples];
        for (var r = 0; r < values.Length; r++)
        {
            for (var i = 0; i < a.Length; i++) a[i] = first[random.NextInt(a.Length)];
            for (var j = 0; j < b.Length; j++) b[j] = second[random.NextInt(b.Length)];
            values[r] = statistic(a, b);
        }
        return Percentile(values, settings);
    }

    private static ConfidenceInterval Percentile(double[] values, BootstrapSettings settings)
    {
        Array.Sort(values);
        var tail = (1 - settings.Level) / 2;
        return new ConfidenceInterval(MemorizationStatistics.Quantile(values, tail), MemorizationStatistics.Quantile(values, 1 - tail), settings.Level, settings.Resamples);
    }
}
