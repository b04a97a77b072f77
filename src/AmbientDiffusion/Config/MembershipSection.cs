using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Config;

/// <summary>The <c>memorization.membership</c> section: whether a run's report gets the membership-inference attacks
/// (membership.json, .csv, ROC charts), and their settings, whose defaults and bounds <see cref="MembershipSettings"/>
/// owns.</summary>
public sealed record MembershipSection : MembershipSettings
{
    /// <summary>Run the attacks after the copy analysis (off by default: they cost a few model evaluations per image).</summary>
    public bool Enabled { get; init; }

    /// <summary>The attacks' settings alone (what report files record).</summary>
    public MembershipSettings ToSettings() => new()
    {
        Sigmas = Sigmas,
        NoiseDraws = NoiseDraws,
        PiaSigma = PiaSigma,
        PiaProbeSigma = PiaProbeSigma,
        PiaNorm = PiaNorm,
        MaxImages = MaxImages,
        BatchSize = BatchSize,
        Ema = Ema,
        Seed = Seed,
    };
}
