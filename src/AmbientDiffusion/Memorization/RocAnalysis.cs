namespace AmbientDiffusion.Memorization;

/// <summary>
/// The receiver operating characteristic of a score that should be higher for members than for non-members
/// (a membership attack): the area under it by the Mann–Whitney statistic (ties count one half), the curve at every
/// distinct threshold, and the true positive rate at a fixed false positive rate as the field reports it (Carlini et
/// al. 2022, "Membership Inference Attacks From First Principles": the largest TPR among thresholds whose FPR is at
/// most the target). A threshold t calls every score ≥ t a member.
/// </summary>
public static class RocAnalysis
{
    /// <summary>P(member score &gt; non-member score) + P(equal) / 2, from average ranks; NaN when a side is empty.</summary>
    public static double Auc(IReadOnlyList<double> members, IReadOnlyList<double> nonMembers)
    {
        var (m, n) = (members.Count, nonMembers.Count);
        if (m == 0 || n == 0) return double.NaN;
        var all = new (double Score, bool Member)[m + n];
        for (var i = 0; i < m; i++) all[i] = (Check(members[i]), true);
        for (var j = 0; j < n; j++) all[m + j] = (Check(nonMembers[j]), false);
        Array.Sort(all, (a, b) => a.Score.CompareTo(b.Score));
        // Rank sum of the members, tied scores sharing the average of their ranks (1-based).
        double memberRanks = 0;
        for (var start = 0; start < all.Length;)
        {
            var end = start;
            while (end + 1 < all.Length && all[end + 1].Score == all[start].Score) end++;
            var rank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++)
                if (all[k].Member) memberRanks += rank;
            start = end + 1;
        }
        return (memberRanks - m * (m + 1.0) / 2) / ((double)m * n); // in doubles: m (m + 1) overflows an int from m = 46341
    }

    /// <summary>The ROC curve: (FPR, TPR) at every distinct score used as the threshold, from (0, 0) (no one called a
    /// member) to (1, 1), in order of increasing FPR.</summary>
    public static IReadOnlyList<(double Fpr, double Tpr)> Curve(IReadOnlyList<double> members, IReadOnlyList<double> nonMembers)
    {
        var (m, n) = (members.Count, nonMembers.Count);
        if (m == 0 || n == 0) throw new ArgumentException($"a ROC curve needs members and non-members (got {m} and {n})");
        var all = members.Select(s => (Score: Check(s), Member: true)).Concat(nonMembers.Select(s => (Score: Check(s), Member: false)))
            .OrderByDescending(p => p.Score).ToArray();
        var points = new List<(double, double)> { (0, 0) };
        var (truePositives, falsePositives) = (0, 0);
        for (var k = 0; k < all.Length; k++)
        {
            if (all[k].Member) truePositives++;
            else falsePositives++;
            // Only after the last of a run of equal scores: a threshold cannot split tied scores.
            if (k + 1 < all.Length && all[k + 1].Score == all[k].Score) continue;
            points.Add(((double)falsePositives / n, (double)truePositives / m));
        }
        return points;
    }

    /// <summary>The largest TPR among thresholds with FPR ≤ <paramref name="fpr"/> (0 when only "no one" qualifies).</summary>
    public static double TprAtFpr(IReadOnlyList<(double Fpr, double Tpr)> curve, double fpr)
    {
        var best = 0.0;
        foreach (var (f, t) in curve)
            if (f <= fpr + 1e-12 && t > best) best = t;
        return best;
    }

    /// <summary>TPR at <paramref name="fpr"/> of the scores' curve.</summary>
    public static double TprAtFpr(IReadOnlyList<double> members, IReadOnlyList<double> nonMembers, double fpr) =>
        TprAtFpr(Curve(members, nonMembers), fpr);

    private static double Check(double score) =>
        double.IsNaN(score) ? throw new ArgumentException("a membership score is NaN; scores must be numbers") : score;
}
