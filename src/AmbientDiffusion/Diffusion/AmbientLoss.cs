using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// The ambient objective for masked data (ambient-spec §2): Ã = A ⊙ B with B the further corruption;
/// x_in = Ã ⊙ (y + σε); D = D(x_in, σ, Ã); terms λ(σ)·(A ⊙ (D − y))². Only pixels observed in A count, so the network
/// must predict pixels that B hid from it but A kept, which makes the minimiser E[x₀ | Ã x_t, Ã] for the clean
/// distribution.
/// </summary>
public sealed class AmbientLoss(NoiseLevelDistribution sigmas, FurtherCorruption further, ulong seed) : DiffusionLoss
{
    /// <inheritdoc />
    public override LossKind Kind => LossKind.Ambient;

    /// <summary>The further corruption.</summary>
    public FurtherCorruption Further => further;

    /// <inheritdoc />
    public override int NetworkMaskChannels(int dataMaskChannels) => dataMaskChannels;

    /// <inheritdoc />
    public override LossTerms Compute(EdmPreconditioner denoiser, CorruptedBatch batch, StackedGenerator random)
    {
        using var scope = torch.NewDisposeScope();
        var (y, a) = (batch.Observations, batch.Masks);
        var sigma = sigmas.Sample(random).to(y.device);
        var s = PerImage(sigma);
        var aTilde = further.Apply(a, random, seed, batch.Indices);
        var xIn = aTilde * (y + Noise(y, random) * s);
        var denoised = denoiser.forward(xIn, sigma, aTilde, batch.ClassConditioning);
        var terms = denoiser.LossWeight(s, aTilde, y) * (a * (denoised - y)).square();
        return new LossTerms(scope.MoveToOuter(terms), scope.MoveToOuter(a.expand(y.shape).contiguous()));
    }
}
