using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// Noise-level schedules and a stochastic reverse step. The Karras et al. schedule spaces σ evenly in σ^(1/ρ); the
/// Euler–Maruyama step of the variance-exploding reverse SDE removes variance Δ = σ_i² − σ_{i+1}² and follows the
/// score (D − x)/σ²: x ← x + Δ·(D(x, σ_i) − x)/σ_i² + √Δ·z.
/// </summary>
public static class ReverseSde
{
    /// <summary>σ_0 = <paramref name="sigmaMax"/> … σ_{steps} = <paramref name="sigmaMin"/> (steps + 1 values, decreasing).</summary>
    public static double[] KarrasSchedule(double sigmaMax, double sigmaMin, int steps, double rho = 7)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least one step");
        if (!(sigmaMax > sigmaMin && sigmaMin > 0)) throw new ArgumentException($"schedule needs sigma_max ({sigmaMax}) > sigma_min ({sigmaMin}) > 0");
        var (hi, lo) = (Math.Pow(sigmaMax, 1 / rho), Math.Pow(sigmaMin, 1 / rho));
        return Enumerable.Range(0, steps + 1).Select(i => Math.Pow(hi + i / (double)steps * (lo - hi), rho)).ToArray();
    }

    /// <summary>
    /// Runs the stochastic reverse process from <paramref name="x"/> at per-image levels σ_hi [B] down to σ_lo [B] in
    /// <paramref name="steps"/> Karras-spaced steps, without gradient, each image's noise from its own generator of
    /// <paramref name="random"/>. <paramref name="denoise"/> is D(x, σ [B]).
    /// </summary>
    public static Tensor Run(Func<Tensor, Tensor, Tensor> denoise, Tensor x, float[] sigmaHigh, float[] sigmaLow, int steps, StackedGenerator random, double rho = 7)
    {
        using var noGrad = torch.no_grad();
        using var outer = torch.NewDisposeScope();
        var schedules = sigmaHigh.Select((hi, b) => KarrasSchedule(hi, sigmaLow[b], steps, rho)).ToArray();
        var current = x.detach();
        for (var i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var now = torch.tensor(schedules.Select(s => (float)s[i]).ToArray()).to(x.device);
            var next = torch.tensor(schedules.Select(s => (float)s[i + 1]).ToArray()).to(x.device);
            var (sNow, sNext) = (now.reshape(-1, 1, 1, 1), next.reshape(-1, 1, 1, 1));
            var variance = sNow.square() - sNext.square();
            var denoised = denoise(current, now);
            var noise = random.randn(x.shape[1..]).to(x.device);
            current = scope.MoveToOuter(current + variance * (denoised - current) / sNow.square() + variance.sqrt() * noise);
        }
        return outer.MoveToOuter(current);
    }
}
