using AmbientDiffusion.Common;
using AmbientDiffusion.Diffusion;

namespace AmbientDiffusion.Sampling;

/// <summary>
/// A sampling run (the <c>sampling:</c> section of a config and the defaults of <c>ambient sample</c>): the sampler's
/// settings plus which seeds, which weights and which outputs. Its defaults and bounds live here only.
/// </summary>
public sealed record SamplingSettings : SamplerOptions
{
    /// <summary>Seeds, one sample each, e.g. <c>0-999</c> (empty: draw no samples).</summary>
    public string Seeds { get; init; } = "0-999";

    /// <summary>Samples per network call (does not change the samples).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Use the EMA weights (false: the raw training weights).</summary>
    public bool Ema { get; init; } = true;

    /// <summary>Samples shown in grid.png.</summary>
    public int Grid { get; init; } = 64;

    /// <summary>Also write one PNG per sample.</summary>
    public bool Png { get; init; }

    /// <summary>The seed list (empty when sampling is off).</summary>
    public IReadOnlyList<ulong> SeedList() => string.IsNullOrWhiteSpace(Seeds) ? [] : SampleSet.ParseSeeds(Seeds);

    /// <inheritdoc />
    public override void Validate()
    {
        try
        {
            SeedList();
        }
        catch (ArgumentException e)
        {
            throw new SettingException("seeds", Seeds, "seeds such as 0-999 or 1,5,7 (" + e.Message.Replace("--seeds ", "", StringComparison.Ordinal) + ")");
        }
        SettingException.Check(BatchSize is >= 1 and <= 65536, "batch_size", BatchSize, "1 to 65536 samples");
        base.Validate();
        SettingException.Check(Grid is >= 1 and <= 4096, "grid", Grid, "1 to 4096 samples");
    }
}
