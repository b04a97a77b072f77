using System.Globalization;
using System.Text;

namespace AmbientDiffusion.Evaluation.Metrics;

/// <summary>Seeds written the way EDM states them: runs of consecutive seeds as ranges, "0-49999" or "0-9,20,30-39".</summary>
public static class SeedRanges
{
    /// <summary>Ranges shown before the rest is summarised by a count.</summary>
    public const int MaxRanges = 32;

    /// <summary>The seeds, in their order, as comma-separated ranges; after <see cref="MaxRanges"/> ranges, the count of the rest.</summary>
    public static string Format(IReadOnlyList<long> seeds)
    {
        if (seeds.Count == 0) return "none";
        var text = new StringBuilder();
        var ranges = 0;
        for (var i = 0; i < seeds.Count;)
        {
            var j = i;
            while (j + 1 < seeds.Count && seeds[j + 1] == seeds[j] + 1) j++;
            if (ranges == MaxRanges)
            {
                text.Append(CultureInfo.InvariantCulture, $",... ({seeds.Count - i} more seeds)");
                break;
            }
            if (ranges > 0) text.Append(',');
            text.Append(j > i ? FormattableString.Invariant($"{seeds[i]}-{seeds[j]}") : seeds[i].ToString(CultureInfo.InvariantCulture));
            ranges++;
            i = j + 1;
        }
        return text.ToString();
    }
}
