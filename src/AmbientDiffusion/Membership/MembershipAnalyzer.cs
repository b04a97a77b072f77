using AmbientDiffusion.Common;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Membership;

/// <summary>
/// Membership inference against a trained model: the loss attack, its corruption-aware variant (models trained on
/// masked data, given the run's corrupted dataset) and PIA, each summarised by ROC AUC and TPR at 1% and 0.1% FPR with
/// bootstrap intervals, written as membership.json, membership.csv (every image's scores) and ROC charts
/// (<see cref="MembershipReportWriter"/>). <c>ambient memorization --membership</c>, the pipeline and the over-time
/// analysis call <see cref="Run(MembershipOptions, IProgress{MembershipProgress}?)"/>.
/// </summary>
public static class MembershipAnalyzer
{
    /// <summary>Reads the checkpoint and the candidates, runs the attacks, writes the files and returns the report.</summary>
    public static MembershipReport Run(MembershipOptions options, IProgress<MembershipProgress>? progress = null)
    {
        MembershipInputs.Check(options);
        torch.Initialize();
        var device = MemorizationAnalyzer.ResolveDevice(options.Device);
        using var scope = torch.NewDisposeScope();
        using var target = AttackTarget.Load(options.CheckpointPath, device, options.Settings.Ema);
        var notes = new List<string>();
        var (members, nonMembers, memberSource, nonMemberSource) = MembershipInputs.Read(options, target, notes);
        var (report, scores) = Attack(target, members, nonMembers, memberSource, nonMemberSource, options.Settings, options.Bootstrap, notes, progress);
        MembershipReportWriter.Write(report, scores, members, nonMembers, options.OutputDirectory);
        return report;
    }

    /// <summary>Runs every attack that applies on sets already read, and summarises them.</summary>
    public static (MembershipReport Report, IReadOnlyList<AttackScores> Scores) Attack(AttackTarget target, CandidateSet members, CandidateSet nonMembers,
        CandidateSource memberSource, CandidateSource nonMemberSource, MembershipSettings settings, BootstrapSettings bootstrap, List<string> notes,
        IProgress<MembershipProgress>? progress = null)
    {
        settings.Validate();
        bootstrap.Validate();
        var aware = target.Masking is not null && members.ObservedMasks is not null;
        var total = (members.Count + nonMembers.Count) * (aware ? 3 : 2);
        var done = 0;
        void Step(int images) => progress?.Report(new MembershipProgress(done += images, total));
        var scores = new List<AttackScores> { DenoisingLossAttack.Run(target, members, nonMembers, settings, observedOnly: false, Step) };
        if (aware) scores.Add(DenoisingLossAttack.Run(target, members, nonMembers, settings, observedOnly: true, Step));
        scores.Add(ProximalInitializationAttack.Run(target, members, nonMembers, settings, Step));
        foreach (var fpr in MembershipMetrics.ReportedFprs)
            if (nonMembers.Count < Math.Round(1 / fpr))
                notes.Add(FormattableString.Invariant($"TPR at {fpr:P1} FPR: with {nonMembers.Count} non-members the smallest FPR above 0 is {1.0 / nonMembers.Count:G3}, so this TPR is the share of members scored above every non-member"));
        var key = double.IsNaN(target.Kimg) ? "" : target.Kimg.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var report = new MembershipReport
        {
            Version = ToolVersion.Describe(),
            Checkpoint = target.Checkpoint,
            Kimg = target.Kimg,
            Weights = settings.Ema ? "ema" : "raw",
            MaskedModel = target.Masking is not null,
            Members = memberSource,
            NonMembers = nonMemberSource,
            Settings = settings,
            Bootstrap = bootstrap,
            Notes = notes,
            Attacks = scores.Select(s => MembershipMetrics.Summarise(s, bootstrap, key)).ToArray(),
        };
        return (report, scores);
    }
}
