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
    Sum,
    /// <summary>Mean over the counted (observed) elements of the batch.</summary>
    MeanObserved,
}

/// <summary>A training objective: loss terms for a batch of corrupted data and a preconditioned denoiser.</summary>
public abstract class DiffusionLoss
{
    /// <summary>Which objective this is.</summary>
    public abstract LossKind Kind { get; }

    /// <summary>Mask channels the network must accept for this loss on data with <paramref name="dataMaskChannels"/>.</summary>
    public virtual int NetworkMaskChannels(int dataMaskChannels) => 0;

    /// <summary>Computes the terms. <paramref name="random"/> supplies every random number (σ, noise, further
    /// corruption), one generator per example in batch order, so an example's terms are a function of the weights, the
    /// example and its own generator: not of the batch it shares, nor of the rank that computes it.</summary>
    public abstract LossTerms Compute(EdmPreconditioner denoiser, CorruptedBatch batch, StackedGenerator random);

    /// <summary>Reduces terms to the scalar the optimizer minimises.</summary>
    public static Tensor Reduce(LossTerms terms, LossReduction reduction)
    {
        using var scope = torch.NewDisposeScope();
        var batch = terms.Terms.size(0);
        var value = reduction switch
        {
            LossReduction.Sum => terms.Terms.sum() / batch,
            LossReduction.MeanObserved => terms.Terms.sum() / terms.Counted.sum().clamp(min: 1),
            _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown reduction"),
        };
        return scope.MoveToOuter(value);
    }

    /// <summary>Standard normal noise like <paramref name="like"/> [B, ...], each example's from its own generator.</summary>
    protected static Tensor Noise(Tensor like, StackedGenerator random) => random.randn(like.shape[1..]).to(like.device);

    /// <summary>σ [B] reshaped to broadcast over [B, C, H, W].</summary>
    protected static Tensor PerImage(Tensor sigma) => sigma.reshape(-1, 1, 1, 1);
}
