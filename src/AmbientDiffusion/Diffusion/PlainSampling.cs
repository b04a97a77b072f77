namespace AmbientDiffusion.Diffusion;

/// <summary>Plain EDM sampling: D(x, σ) from σ_max down to σ_min, finished with EDM's last Euler step to σ = 0.</summary>
public sealed record PlainSampling : SamplingMode
{
    /// <inheritdoc />
    public override string Describe() => "plain";
}
