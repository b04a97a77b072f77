using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Membership;

/// <summary>Turns an attack's scores into its <see cref="AttackResult"/>: AUC, TPR at 1% and 0.1% FPR, each with its
/// stratified bootstrap interval (members and non-members resampled within themselves), and the AUC per noise level.</summary>
public static class MembershipMetrics
{
    /// <summary>The false positive rates the report states TPR at.</summary>
    public static readonly double[] ReportedFprs = [0.01, 0.001];

    /// <summary>The summary of <paramref name="scores"/>; <paramref name="key"/> keys its bootstrap streams (e.g. the
    /// checkpoint's kimg), with the attack's name.</summary>
    public static AttackResult Summarise(AttackScores scores, BootstrapSettings bootstrap, string key = "")
    {
        var (m, n) = (scores.Members, scores.NonMembers);
        var curve = RocAnalysis.Curve(m, n);
        ConfidenceInterval? Interval(string what, Func<double[], double[], double> statistic) =>
            Bootstrap.TwoSample(m, n, statistic, bootstrap, $"membership/{key}/{scores.Name}/{what}");
        return new AttackResult
        {
            Name = scores.Name,
            Description = scores.Description,
            Members = m.Length,
            NonMembers = n.Length,
            Auc = RocAnalysis.Auc(m, n),
            AucInterval = Interval("auc", RocAnalysis.Auc),
            TprAt1PctFpr = RocAnalysis.TprAtFpr(curve, ReportedFprs[0]),
            TprAt1PctFprInterval = Interval("tpr@1%", (a, b) => RocAnalysis.TprAtFpr(a, b, ReportedFprs[0])),
            TprAt01PctFpr = RocAnalysis.TprAtFpr(curve, ReportedFprs[1]),
            TprAt01PctFprInterval = Interval("tpr@0.1%", (a, b) => RocAnalysis.TprAtFpr(a, b, ReportedFprs[1])),
            PerSigma = scores.PerSigma.Select(s => new SigmaAuc(s.Sigma, RocAnalysis.Auc(s.Members, s.NonMembers))).ToArray(),
        };
    }
}
