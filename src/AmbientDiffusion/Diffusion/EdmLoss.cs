using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// The EDM loss λ(σ)·‖D(y + σε, σ) − y‖² on the data as stored. On clean data it is EDM itself ("edm"); on masked data
/// it is the paper's baseline ("naive"): removed pixels stay 0, so the model learns the corrupted distribution.
/// </summary>
public sealed class EdmLoss(NoiseLevelDistribution sigmas, bool naive = false) : DiffusionLoss
{
    /// <inheritdoc />
    public override LossKind Kind => naive ? LossKind.Naive : LossKind.Edm;

    /// <inheritdoc />
    public override LossTerms Compute(EdmPreconditioner denoiser, CorruptedBatch batch, StackedGenerator random)
    {
        using var scope = torch.NewDisposeScope();
        var y = batch.Observations;
        var sigma = sigmas.Sample(random).to(y.device);
        var s = PerImage(sigma);
        var denoised = denoiser.forward(y + Noise(y, random) * s, sigma, classLabels: batch.ClassConditioning);
        var terms = denoiser.LossWeight(s) * (denoised - y).square();
        return new LossTerms(scope.MoveToOuter(terms), scope.MoveToOuter(torch.ones_like(y)));
    }
}
