using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// Unreduced loss terms, as EDM's losses return them: <see cref="Terms"/> [B, C, H, W] (already weighted and masked) and
/// <see cref="Counted"/>, 1 where an element counts (observed pixels), for reductions that average over counted
/// elements. The trainer reduces them; it never knows which loss produced them.
/// </summary>
public sealed record LossTerms(Tensor Terms, Tensor Counted);

/// <summary>How the trainer turns <see cref="LossTerms"/> into a scalar.</summary>
public enum LossReduction
{
    /// <summary>Sum over pixels, mean over the batch: the official code's reduction (default).</summary>
    SumPixelsMeanBatch,
    /// <summary>Mean over the counted (observed) elements of the batch.</summary>
    MeanObserved,
}

/// <summary>A training objective: loss terms for a batch of corrupted data and a preconditioned denoiser.</summary>
public abstract class DiffusionLoss
{
    /// <summary>The loss's config name ("edm", "naive", "ambient", "tweedie").</summary>
    public abstract string Name { get; }

    /// <summary>Mask channels the network must accept for this loss on data with <paramref name="dataMaskChannels"/>.</summary>
    public virtual int NetworkMaskChannels(int dataMaskChannels) => 0;

    /// <summary>Computes the terms. <paramref name="generator"/> supplies every random number (σ, noise, further
    /// corruption), so a step is a function of the weights, the batch and the generator state.</summary>
    public abstract LossTerms Compute(EdmPreconditioner denoiser, CorruptedBatch batch, Generator generator);

    /// <summary>Reduces terms to the scalar the optimizer minimises.</summary>
    public static Tensor Reduce(LossTerms terms, LossReduction reduction)
    {
        using var scope = torch.NewDisposeScope();
        var batch = terms.Terms.size(0);
        var value = reduction switch
        {
            LossReduction.SumPixelsMeanBatch => terms.Terms.sum() / batch,
            LossReduction.MeanObserved => terms.Terms.sum() / terms.Counted.sum().clamp(min: 1),
            _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown reduction"),
        };
        return scope.MoveToOuter(value);
    }

    /// <summary>Standard normal noise like <paramref name="like"/>, drawn on the CPU from <paramref name="generator"/>.</summary>
    protected static Tensor Noise(Tensor like, Generator generator) => torch.randn(like.shape, ScalarType.Float32, Device.CPU, generator).to(like.device);

    /// <summary>σ [B] reshaped to broadcast over [B, C, H, W].</summary>
    protected static Tensor PerImage(Tensor sigma) => sigma.reshape(-1, 1, 1, 1);
}

/// <summary>
/// The EDM loss λ(σ)·‖D(y + σε, σ) − y‖² on the data as stored. On clean data it is EDM itself ("edm"); on masked data
/// it is the paper's baseline ("naive"): removed pixels stay 0, so the model learns the corrupted distribution.
/// </summary>
public sealed class EdmLoss(NoiseLevelDistribution sigmas, bool naive = false) : DiffusionLoss
{
    /// <inheritdoc />
    public override string Name => naive ? "naive" : "edm";

    /// <inheritdoc />
    public override LossTerms Compute(EdmPreconditioner denoiser, CorruptedBatch batch, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var y = batch.Observations;
        var sigma = sigmas.Sample((int)y.size(0), generator).to(y.device);
        var s = PerImage(sigma);
        var denoised = denoiser.forward(y + Noise(y, generator) * s, sigma);
        var terms = denoiser.LossWeight(s) * (denoised - y).square();
        return new LossTerms(scope.MoveToOuter(terms), scope.MoveToOuter(torch.ones_like(y)));
    }
}

/// <summary>
/// The ambient objective for masked data (ambient-spec §2): Ã = A ⊙ B with B the further corruption;
/// x_in = Ã ⊙ (y + σε); D = D(x_in, σ, Ã); terms λ(σ)·(A ⊙ (D − y))². Only pixels observed in A count, so the network
/// must predict pixels that B hid from it but A kept, which makes the minimiser E[x₀ | Ã x_t, Ã] for the clean
/// distribution.
/// </summary>
public sealed class AmbientLoss(NoiseLevelDistribution sigmas, FurtherCorruption further, ulong seed) : DiffusionLoss
{
    /// <inheritdoc />
    public override string Name => "ambient";

    /// <summary>The further corruption.</summary>
    public FurtherCorruption Further => further;

    /// <inheritdoc />
    public override int NetworkMaskChannels(int dataMaskChannels) => dataMaskChannels;

    /// <inheritdoc />
    public override LossTerms Compute(EdmPreconditioner denoiser, CorruptedBatch batch, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var (y, a) = (batch.Observations, batch.Masks);
        var sigma = sigmas.Sample((int)y.size(0), generator).to(y.device);
        var s = PerImage(sigma);
        var aTilde = further.Apply(a, generator, seed, batch.Indices);
        var xIn = aTilde * (y + Noise(y, generator) * s);
        var denoised = denoiser.forward(xIn, sigma, aTilde);
        var terms = denoiser.LossWeight(s, aTilde, y) * (a * (denoised - y)).square();
        return new LossTerms(scope.MoveToOuter(terms), scope.MoveToOuter(a.expand(y.shape).contiguous()));
    }
}
