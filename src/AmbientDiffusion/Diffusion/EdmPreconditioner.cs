using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// EDM preconditioning (Karras et al. 2022, Table 1) around a raw network F:
/// D(x, σ, M) = c_skip(σ)·x + c_out(σ)·F([c_in(σ)·x, M], c_noise(σ)) with c_skip = σ_d²/(σ²+σ_d²),
/// c_out = σ·σ_d/√(σ²+σ_d²), c_in = 1/√(σ²+σ_d²), c_noise = ln(σ)/4 and σ_d = 0.5. For ambient models the mask M (the
/// further-corrupted Ã during training, the sampler's fixed mask when sampling) is appended to the scaled input.
/// <para>
/// Hidden pixels (M = 0) are preconditioned per pixel by default, as if their noise were infinite: c_skip = 0 and
/// c_out = σ_d there. The input holds nothing at those pixels, so the uniform form c_skip(σ)·0 + c_out(σ)·F would
/// force F to grow like 1/σ to predict them at small σ; an undertrained network then leaves them near 0 and samples
/// come out speckled. The matching loss weight is 1/c_out² per pixel (λ(σ) where M = 1, 1/σ_d² where M = 0), which
/// keeps the network's target unit-variance everywhere. Weights that depend only on the network's inputs leave the
/// minimiser E[x_0 | M x_t, M] unchanged, so the ambient theorem holds as before. <c>perPixelHidden: false</c> gives
/// the uniform form of ambient-spec §2 and the official code.
/// </para>
/// </summary>
public sealed class EdmPreconditioner : torch.nn.Module
{
    /// <summary>Wraps <paramref name="network"/> (registered as "model", so weights are named model.*).</summary>
    public EdmPreconditioner(NoiseConditionedNetwork network, double sigmaData = 0.5, bool perPixelHidden = true)
    {
        Network = register_module("model", network);
        SigmaData = sigmaData > 0 ? sigmaData : throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigma_data must be > 0");
        PerPixelHidden = perPixelHidden;
    }

    /// <summary>Whether hidden pixels get c_skip = 0, c_out = σ_d (see the class remarks).</summary>
    public bool PerPixelHidden { get; }

    /// <summary>F.</summary>
    public NoiseConditionedNetwork Network { get; }

    /// <summary>σ_d, the standard deviation of the data (0.5 for pixels in [-1, 1]).</summary>
    public double SigmaData { get; }

    /// <summary>
    /// The denoised estimate D(x, σ, M) for x [B, C, H, W] and σ [B]. <paramref name="mask"/> [B, MaskChannels, H, W] is
    /// required exactly when the network has mask channels; <paramref name="classLabels"/> float [B, LabelDim] (one-hot,
    /// all-zero rows for the null label) exactly when it is class-conditional.
    /// </summary>
    public Tensor forward(Tensor x, Tensor sigma, Tensor? mask = null, Tensor? classLabels = null)
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
        var f = Network.forward(input, cNoise, classLabels);
        if (mask is not null && PerPixelHidden)
        {
            var visible = mask.to(x.dtype).expand(x.shape);
            cSkip = cSkip * visible;
            cOut = cOut * visible + (1 - visible) * SigmaData;
        }
        return scope.MoveToOuter(cSkip * x + cOut * f);
    }

    /// <summary>The EDM loss weight λ(σ) = (σ² + σ_d²)/(σ·σ_d)², which makes the network's effective target unit-variance.</summary>
    public Tensor LossWeight(Tensor sigma) => (sigma.square() + SigmaData * SigmaData) / (sigma * SigmaData).square();

    /// <summary>Per-pixel loss weight 1/c_out² for inputs masked by <paramref name="mask"/> [B, Cm, H, W] at σ
    /// (<paramref name="sigma"/> broadcastable to [B, 1, 1, 1]): λ(σ) at visible pixels and, with
    /// <see cref="PerPixelHidden"/>, 1/σ_d² at hidden ones; [B, C, H, W] like <paramref name="like"/>.</summary>
    public Tensor LossWeight(Tensor sigma, Tensor mask, Tensor like)
    {
        using var scope = torch.NewDisposeScope();
        var lambda = LossWeight(sigma);
        if (!PerPixelHidden) return scope.MoveToOuter(lambda.expand(like.shape).contiguous());
        var visible = mask.to(like.dtype).expand(like.shape);
        return scope.MoveToOuter(visible * lambda + (1 - visible) / (SigmaData * SigmaData));
    }
}
