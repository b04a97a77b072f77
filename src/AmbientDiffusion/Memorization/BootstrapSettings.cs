using AmbientDiffusion.Common;

namespace AmbientDiffusion.Memorization;

/// <summary>How the percentile bootstrap puts confidence intervals on the rates a report states (the
/// <c>memorization:</c> keys <c>bootstrap_resamples</c>, <c>confidence_level</c>).</summary>
public sealed record BootstrapSettings
{
    /// <summary>Resamples drawn; 0 reports no intervals.</summary>
    public int Resamples { get; init; } = 1000;

    /// <summary>Coverage the interval is built for (the central share of the bootstrap distribution).</summary>
    public double Level { get; init; } = 0.95;

    /// <summary>Seed of the resampling (every interval of a report draws from its own keyed stream of it).</summary>
    public ulong Seed { get; init; }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Resamples == 0 || Resamples is >= 100 and <= 1_000_000, "bootstrap_resamples", Resamples, "0 (no intervals) or 100 to 1000000 resamples");
        SettingException.Check(Level is > 0.5 and < 1, "confidence_level", Level, "a level in (0.5, 1), e.g. 0.95");
    }
}
