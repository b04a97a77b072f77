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

    /// <summary>σ [count] drawn from <paramref name="generator"/> (CPU, float32).</summary>
    public Tensor Sample(int count, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(torch.randn([count], generator: generator).mul_(PStd).add_(PMean).exp_());
    }

    /// <summary>σ [B] with σ_i &gt; σ_n,i for every i (σ_n [B], CPU float32), by rejection.</summary>
    public Tensor SampleAbove(Tensor noiseSigma, Generator generator)
    {
        var floor = noiseSigma.data<float>();
        var result = new float[floor.Length];
        var pending = Enumerable.Range(0, floor.Length).ToList();
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == MaxRejectionRounds)
                throw new InvalidOperationException($"could not draw σ above σ_n = {floor[pending[0]]} in {MaxRejectionRounds} rounds: the noise level lies far beyond the training distribution (P_mean {PMean}, P_std {PStd})");
            using var scope = torch.NewDisposeScope();
            var draws = Sample(pending.Count, generator).data<float>();
            var still = new List<int>();
            for (var k = 0; k < pending.Count; k++)
            {
                if (draws[k] > floor[pending[k]]) result[pending[k]] = draws[k];
                else still.Add(pending[k]);
            }
            pending = still;
        }
        return torch.tensor(result);
    }
}
