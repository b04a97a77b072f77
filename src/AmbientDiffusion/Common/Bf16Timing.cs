namespace AmbientDiffusion.Common;

/// <summary>
/// A measured training step in float32 and under bf16 autocast on the run's own network and batch (the median of a few
/// interleaved steps each way), the evidence <c>device.bf16: auto</c> decides by on a CPU with native bf16.
/// </summary>
/// <param name="Float32StepSeconds">Median seconds of one float32 step.</param>
/// <param name="Bf16StepSeconds">Median seconds of one bf16-autocast step.</param>
/// <param name="Steps">Timed steps each way (after one untimed warm-up step each).</param>
/// <param name="FromCache">Whether these timings were recalled from the cache rather than measured now.</param>
public sealed record Bf16Timing(double Float32StepSeconds, double Bf16StepSeconds, int Steps, bool FromCache = false)
{
    /// <summary>bf16 is chosen only when its step takes less than this fraction of the float32 step: float32 is the
    /// reference precision, and a few timed steps on a shared machine scatter by a few percent, so a tie goes to it.</summary>
    public const double MaxRatioForBf16 = 0.95;

    /// <summary>bf16 step time over float32 step time.</summary>
    public double Ratio => Bf16StepSeconds / Float32StepSeconds;

    /// <summary>Whether bf16 was measured faster by the margin <see cref="MaxRatioForBf16"/>.</summary>
    public bool ChoosesBf16 => Ratio < MaxRatioForBf16;
}
