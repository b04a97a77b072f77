using System.Globalization;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// The early-stop sampler for models trained on noisy data (tweedie): the data say nothing below σ_n, so the schedule
/// ends at σ_n and the sample is one Tweedie jump D(x, σ_n) from there.
/// </summary>
/// <param name="StopSigma">σ_n, the noise level of the training data (largest, when it varies).</param>
public sealed record EarlyStopSampling(double StopSigma) : SamplingMode
{
    /// <inheritdoc />
    public override string Describe() => $"early_stop(sigma_n={StopSigma.ToString(CultureInfo.InvariantCulture)})";
}
