namespace AmbientDiffusion.Diffusion;

/// <summary>
/// How a trained model is turned into a denoiser for sampling (ambient-spec §5): a closed set of three modes, each in
/// its own file — <see cref="PlainSampling"/> (clean and naive models), <see cref="FixedMaskSampling"/> (ambient
/// models) and <see cref="EarlyStopSampling"/> (models of noisy data). <c>Sampling.SamplingModes</c> picks the one a
/// checkpoint's training implies.
/// </summary>
public abstract record SamplingMode
{
    // Closed: only the three modes of this assembly derive from it.
    private protected SamplingMode()
    {
    }

    /// <summary>Plain EDM sampling.</summary>
    public static PlainSampling Plain { get; } = new();

    /// <summary>A short description for logs and sample metadata.</summary>
    public abstract string Describe();
}
