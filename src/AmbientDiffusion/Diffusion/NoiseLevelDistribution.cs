using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// The training noise levels of EDM: ln σ ~ N(P_mean, P_std²), P_mean = -1.2, P_std = 1.2. For noisy data the Tweedie
/// objective needs σ above each image's own noise level σ_n; <see cref="SampleAbove"/> draws from the conditional
/// distribution by rejection. Clamping instead would put a third of the batch at σ = σ_n, where the loss is identically
/// zero (ambient-spec §3).
/// </summary>
public sealed record NoiseLevelDistribution(double PMean = -1.2, double PStd = 1.2)
{
    /// <summary>How many rounds of redraws before giving up: with σ_n far above the distribution's bulk the
    /// objective has almost no mass left, and the data or config is wrong.</summary>
    public const int MaxRejectionRounds = 10000;

    /// <summary>σ [B], one per example, each from its own generator of <paramref name="random"/> (CPU, float32).</summary>
    public Tensor Sample(StackedGenerator random)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(random.randn([]).mul_(PStd).add_(PMean).exp_());
    }

    /// <summary>σ [B] with σ_i &gt; σ_n,i for every i (σ_n [B], CPU float32), by rejection: example i redraws from its own
    /// generator until its draw clears its own floor, so its σ does not depend on the other examples.</summary>
    public Tensor SampleAbove(Tensor noiseSigma, StackedGenerator random)
    {
        var floor = noiseSigma.data<float>();
        if (floor.Length != random.Count) throw new ArgumentException($"{floor.Length} noise levels for {random.Count} generators");
        var result = new float[floor.Length];
        for (var i = 0; i < floor.Length; i++)
            result[i] = DrawAbove(floor[i], random[i]);
        return torch.tensor(result);
    }

    private float DrawAbove(float floor, Generator generator)
    {
        for (var round = 0; round < MaxRejectionRounds; round++)
        {
            using var scope = torch.NewDisposeScope();
            // The same float32 arithmetic as Sample, so σ_n = 0 draws exactly what Sample draws.
            var draw = torch.randn([], generator: generator).mul_(PStd).add_(PMean).exp_().item<float>();
            if (draw > floor) return draw;
        }
        throw new InvalidOperationException($"could not draw σ above σ_n = {floor} in {MaxRejectionRounds} rounds: the noise level lies far beyond the training distribution (P_mean {PMean}, P_std {PStd})");
    }
}
