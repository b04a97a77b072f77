using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>How the Tweedie terms are weighted.</summary>
public enum TweedieWeighting
{
    /// <summary>w = λ(σ_t), EDM's weight (default).</summary>
    Lambda,
    /// <summary>w = λ(σ_t)·σ_t⁴/(σ_t² − σ_n²)², which equalises the effective weight on x̂₀.</summary>
    LambdaRatio,
}

/// <summary>The optional consistency term (Consistent Diffusion Models) that trains D below σ_n.</summary>
/// <param name="Weight">λ_c; 0 turns the term off.</param>
/// <param name="Steps">Reverse-SDE steps K from σ_n down to σ_lo.</param>
/// <param name="SigmaMin">Lower end of the log-uniform range of σ_lo.</param>
public sealed record ConsistencyOptions(double Weight = 0, int Steps = 3, double SigmaMin = 0.002);

/// <summary>
/// Ambient denoising score matching with Tweedie's formula, for images observed as x_tn = x₀ + σ_n·z (ambient-spec §3):
/// σ_t is drawn above σ_n by rejection; x_t = x_tn + √(σ_t² − σ_n²)·ε; x̂₀ = D(x_t, σ_t);
/// x̂_tn = (σ_n²/σ_t²)·x_t + (1 − σ_n²/σ_t²)·x̂₀; terms w(σ_t)·(x̂_tn − x_tn)². For σ_n = 0 this is exactly the EDM loss,
/// so clean and noisy images share one code path. At the minimum x̂₀ = E[x₀ | x_t] for the clean distribution.
/// With consistency, each noisy image also contributes λ_c·(D₁ − D₀)(D₂ − D₀), where D₀ = D(x_tn, σ_n) and D₁, D₂ are D at
/// σ_lo &lt; σ_n after two independent reverse-SDE runs from x_tn: the product of independent samples is an unbiased
/// estimate of ‖E[D(x′, σ_lo)] − D₀‖².
/// With <c>floorFactor</c> f &gt; 1, σ_t is drawn above f·σ_n instead (Ambient-Omni's rule for low-quality data, f = √(4/3)),
/// which bounds σ_t²/(σ_t² − σ_n²) and so the variance of the Tweedie target; clean images (σ_n = 0) are unaffected.
/// </summary>
public sealed class TweedieLoss(NoiseLevelDistribution sigmas, TweedieWeighting weighting = TweedieWeighting.Lambda, ConsistencyOptions? consistency = null, double floorFactor = 1) : DiffusionLoss
{
    private readonly ConsistencyOptions _consistency = consistency ?? new ConsistencyOptions();

    /// <inheritdoc />
    public override LossKind Kind => LossKind.Tweedie;

    /// <inheritdoc />
    public override LossTerms Compute(EdmPreconditioner denoiser, CorruptedBatch batch, StackedGenerator random)
    {
        using var scope = torch.NewDisposeScope();
        var (y, sigmaN) = (batch.Observations, batch.NoiseSigma);
        // f = 1 passes σ_n itself, so the plain loss draws bitwise what it always drew.
        var floor = floorFactor == 1 ? sigmaN.cpu() : sigmaN.cpu() * floorFactor;
        var sigmaT = sigmas.SampleAbove(floor, random).to(y.device);
        var (st, sn) = (PerImage(sigmaT), PerImage(sigmaN));
        var extra = (st.square() - sn.square()).sqrt();
        var xt = y + Noise(y, random) * extra;
        var x0 = denoiser.forward(xt, sigmaT, classLabels: batch.ClassConditioning);
        var ratio = sn.square() / st.square();
        var xtn = ratio * xt + (1 - ratio) * x0;
        var weight = denoiser.LossWeight(st);
        if (weighting == TweedieWeighting.LambdaRatio) weight = weight * st.pow(4) / extra.pow(4);
        var terms = weight * (xtn - y).square();
        if (_consistency.Weight > 0) terms = terms + ConsistencyTerms(denoiser, batch, random) * _consistency.Weight;
        return new LossTerms(scope.MoveToOuter(terms), scope.MoveToOuter(torch.ones_like(y)));
    }

    private Tensor ConsistencyTerms(EdmPreconditioner denoiser, CorruptedBatch batch, StackedGenerator random)
    {
        using var scope = torch.NewDisposeScope();
        var (y, sigmaN) = (batch.Observations, batch.NoiseSigma);
        var high = sigmaN.cpu().data<float>();
        var noisy = torch.tensor(high.Select(s => s > _consistency.SigmaMin ? 1f : 0f).ToArray()).to(y.device).reshape(-1, 1, 1, 1);
        // σ_lo log-uniform on [σ_min, σ_n); clean images get a dummy level and a zero weight.
        var u = random.rand([]).data<float>();
        var low = high.Select((s, b) => s > _consistency.SigmaMin ? (float)Math.Exp(Math.Log(_consistency.SigmaMin) + u[b] * (Math.Log(s) - Math.Log(_consistency.SigmaMin))) : (float)_consistency.SigmaMin).ToArray();
        var start = high.Select(s => Math.Max(s, (float)_consistency.SigmaMin * 2)).ToArray();
        var startSigma = torch.tensor(start).to(y.device);
        var lowSigma = torch.tensor(low).to(y.device);
        Tensor Denoise(Tensor x, Tensor s) => denoiser.forward(x, s, classLabels: batch.ClassConditioning);
        var d0 = Denoise(y, startSigma);
        var d1 = Denoise(ReverseSde.Run(Denoise, y, start, low, _consistency.Steps, random), lowSigma);
        var d2 = Denoise(ReverseSde.Run(Denoise, y, start, low, _consistency.Steps, random), lowSigma);
        return scope.MoveToOuter((d1 - d0) * (d2 - d0) * noisy);
    }
}
