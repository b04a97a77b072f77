using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// EDM preconditioning (Karras et al. 2022, Table 1) around a raw network F:
/// D(x, σ, M) = c_skip(σ)·x + c_out(σ)·F([c_in(σ)·x, M], c_noise(σ)) with c_skip = σ_d²/(σ²+σ_d²),
/// c_out = σ·σ_d/√(σ²+σ_d²), c_in = 1/√(σ²+σ_d²), c_noise = ln(σ)/4 and σ_d = 0.5. For ambient models the mask M (the
/// further-corrupted Ã during training, the sampler's fixed mask when sampling) is appended to the scaled input.
/// </summary>
public sealed class EdmPreconditioner : torch.nn.Module
{
    /// <summary>Wraps <paramref name="network"/> (registered as "model", so weights are named model.*).</summary>
    public EdmPreconditioner(NoiseConditionedNetwork network, double sigmaData = 0.5)
    {
        Network = register_module("model", network);
        SigmaData = sigmaData > 0 ? sigmaData : throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigma_data must be > 0");
    }

    /// <summary>F.</summary>
    public NoiseConditionedNetwork Network { get; }

    /// <summary>σ_d, the standard deviation of the data (0.5 for pixels in [-1, 1]).</summary>
    public double SigmaData { get; }

    /// <summary>
    /// The denoised estimate D(x, σ, M) for x [B, C, H, W] and σ [B]. <paramref name="mask"/> [B, MaskChannels, H, W] is
    /// required exactly when the network has mask channels.
    /// </summary>
    public Tensor forward(Tensor x, Tensor sigma, Tensor? mask = null)
    {
        if ((mask is null) != (Network.MaskChannels == 0))
            throw new ArgumentException(Network.MaskChannels == 0 ? "this model takes no mask input" : $"this model needs a mask input with {Network.MaskChannels} channel(s)");
        using var scope = torch.NewDisposeScope();
        var s = sigma.to(ScalarType.Float32).reshape(-1, 1, 1, 1);
        var sd2 = SigmaData * SigmaData;
        var variance = s.square() + sd2;
        var cSkip = sd2 / variance;
        var cOut = s * SigmaData * variance.rsqrt();
        var cIn = variance.rsqrt();
        var cNoise = s.log().div(4).reshape(-1);
        var input = cIn * x;
        if (mask is not null) input = torch.cat([input, mask.to(input.dtype)], 1);
        var f = Network.forward(input, cNoise);
        return scope.MoveToOuter(cSkip * x + cOut * f);
    }

    /// <summary>The EDM loss weight λ(σ) = (σ² + σ_d²)/(σ·σ_d)², which makes the network's effective target unit-variance.</summary>
    public Tensor LossWeight(Tensor sigma) => (sigma.square() + SigmaData * SigmaData) / (sigma * SigmaData).square();
}
