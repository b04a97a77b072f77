using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// Settings of EDM's deterministic Heun sampler (Karras et al. 2022, Algorithm 2) with optional churn. Defaults are
/// EDM's: 18 steps (35 network evaluations), σ from 80 down to 0.002 spaced evenly in σ^(1/ρ) with ρ = 7, no churn.
/// </summary>
public sealed record SamplerOptions
{
    /// <summary>Noise levels visited (N in EDM); the network is evaluated 2N − 1 times.</summary>
    public int Steps { get; init; } = 18;

    /// <summary>Smallest noise level of the schedule (replaced by σ_n for the early-stop sampler).</summary>
    public double SigmaMin { get; init; } = 0.002;

    /// <summary>Starting noise level.</summary>
    public double SigmaMax { get; init; } = 80;

    /// <summary>Schedule curvature ρ.</summary>
    public double Rho { get; init; } = 7;

    /// <summary>S_churn: total stochasticity added along the trajectory (0 = deterministic ODE).</summary>
    public double Churn { get; init; }

    /// <summary>S_tmin: churn only at σ ≥ this.</summary>
    public double ChurnMin { get; init; }

    /// <summary>S_tmax: churn only at σ ≤ this.</summary>
    public double ChurnMax { get; init; } = double.PositiveInfinity;

    /// <summary>S_noise: scale of the churn noise (slightly above 1 compensates detail loss).</summary>
    public double ChurnNoise { get; init; } = 1;

    /// <summary>Checks the settings; messages name the setting.</summary>
    public void Validate()
    {
        if (Steps is < 2 or > 1000) throw new ArgumentException($"sampling.steps = {Steps}: expected 2 to 1000");
        if (!(SigmaMax > SigmaMin && SigmaMin > 0)) throw new ArgumentException($"sampling.sigma_min = {SigmaMin}, sigma_max = {SigmaMax}: expected 0 < sigma_min < sigma_max");
        if (!(Rho > 0)) throw new ArgumentException($"sampling.rho = {Rho}: expected > 0");
        if (!(Churn >= 0)) throw new ArgumentException($"sampling.churn = {Churn}: expected >= 0");
        if (!(ChurnNoise > 0)) throw new ArgumentException($"sampling.churn_noise = {ChurnNoise}: expected > 0");
    }
}

/// <summary>
/// How a trained model is turned into a denoiser for sampling (ambient-spec §5): plainly (clean, naive), through the
/// fixed-mask sampler (ambient models: one mask per sample, drawn like the training masks and further corrupted with
/// δ, kept for every step; the denoiser is D(M ⊙ x, σ, M)), or with an early stop at σ_n (models of noisy data: the
/// data say nothing below σ_n, so the sampler stops there and returns one Tweedie jump D(x, σ_n)).
/// </summary>
public sealed record SamplingMode
{
    /// <summary>Plain EDM sampling.</summary>
    public static readonly SamplingMode Plain = new();

    /// <summary>The mask operator of the training data (noise parts removed), for the fixed-mask sampler.</summary>
    public CorruptionOperator? Mask { get; init; }

    /// <summary>Further corruption δ applied on top of <see cref="Mask"/> (as in training).</summary>
    public double Delta { get; init; }

    /// <summary>Mask channels of the model (1 shared, C per channel).</summary>
    public int MaskChannels { get; init; }

    /// <summary>σ at which the early-stop sampler stops (0: run to σ_min and finish with EDM's last Euler step).</summary>
    public double StopSigma { get; init; }

    /// <summary>A short description for logs and metadata.</summary>
    public string Describe() =>
        Mask is not null ? $"fixed_mask({Mask.Describe()}, delta={Delta.ToString(System.Globalization.CultureInfo.InvariantCulture)})"
        : StopSigma > 0 ? $"early_stop(sigma_n={StopSigma.ToString(System.Globalization.CultureInfo.InvariantCulture)})"
        : "plain";
}

/// <summary>
/// EDM's Heun sampler. Each sample owns a generator seeded by its seed (initial noise, churn noise and its fixed
/// mask all come from it), so a sample depends on its seed only, never on the batch it was drawn in. The state is
/// kept in float64 on the CPU; the network runs in float32 on its device. Outputs are clipped to [-1, 1] only at the end.
/// </summary>
public sealed class EdmSampler
{
    private readonly EdmPreconditioner _model;
    private readonly double[] _sigmas;

    /// <summary>A sampler for <paramref name="model"/>.</summary>
    public EdmSampler(EdmPreconditioner model, SamplerOptions options, SamplingMode mode)
    {
        options.Validate();
        if ((mode.Mask is null) != (model.Network.MaskChannels == 0))
            throw new ArgumentException(model.Network.MaskChannels == 0
                ? "the fixed-mask sampler needs a model trained with masks (the ambient loss)"
                : $"this model takes a {model.Network.MaskChannels}-channel mask input: sample it with the fixed-mask sampler");
        if (mode.Mask is not null && mode.MaskChannels != model.Network.MaskChannels)
            throw new ArgumentException($"the sampler's masks have {mode.MaskChannels} channel(s), the model takes {model.Network.MaskChannels}");
        if (mode.StopSigma < 0 || mode.StopSigma >= options.SigmaMax) throw new ArgumentException($"early-stop σ_n = {mode.StopSigma} must lie in [0, sigma_max)");
        (_model, Options, Mode) = (model, options, mode);
        // t_0 … t_{N-1} from σ_max to σ_min (or σ_n), then t_N = 0 for the plain sampler's final Euler step.
        var low = mode.StopSigma > 0 ? mode.StopSigma : options.SigmaMin;
        var schedule = ReverseSde.KarrasSchedule(options.SigmaMax, low, options.Steps - 1, options.Rho);
        _sigmas = mode.StopSigma > 0 ? schedule : [.. schedule, 0.0];
    }

    /// <summary>The settings.</summary>
    public SamplerOptions Options { get; }

    /// <summary>How the model is used.</summary>
    public SamplingMode Mode { get; }

    /// <summary>The noise levels visited, decreasing (ending in 0 for the plain sampler, in σ_n for early stop).</summary>
    public IReadOnlyList<double> Schedule => _sigmas;

    /// <summary>Draws one sample per seed: float32 [B, C, H, W] in [-1, 1] on the CPU.</summary>
    public Tensor Sample(IReadOnlyList<ulong> seeds)
    {
        if (seeds.Count == 0) throw new ArgumentException("no seeds to sample");
        using var noGrad = torch.no_grad();
        using var outer = torch.NewDisposeScope();
        var network = _model.Network;
        var shape = new long[] { network.ImageChannels, network.Resolution, network.Resolution };
        var device = _model.parameters().FirstOrDefault()?.device ?? Device.CPU;
        var generators = seeds.Select(s => new Generator(s)).ToArray();
        try
        {
            var masks = Mode.Mask is null ? null : DrawMasks(seeds).to(device);
            var x = StandardNormal(generators, shape) * _sigmas[0];
            for (var i = 0; i + 1 < _sigmas.Length; i++)
            {
                using var scope = torch.NewDisposeScope();
                var (now, next) = (_sigmas[i], _sigmas[i + 1]);
                var gamma = Options.Churn > 0 && now >= Options.ChurnMin && now <= Options.ChurnMax
                    ? Math.Min(Options.Churn / Options.Steps, Math.Sqrt(2) - 1) : 0;
                var hat = now + gamma * now;
                var xHat = gamma > 0
                    ? x + Math.Sqrt(hat * hat - now * now) * Options.ChurnNoise * StandardNormal(generators, shape)
                    : x;
                var slope = (xHat - Denoise(xHat, hat, masks, device)) / hat;
                var xNext = xHat + (next - hat) * slope;
                if (next > 0)
                {
                    // Heun's correction: average the slopes at both ends (skipped on the final step to σ = 0).
                    var slopeNext = (xNext - Denoise(xNext, next, masks, device)) / next;
                    xNext = xHat + (next - hat) * (0.5 * slope + 0.5 * slopeNext);
                }
                x = scope.MoveToOuter(xNext);
            }
            if (Mode.StopSigma > 0) x = Denoise(x, Mode.StopSigma, masks, device);
            return outer.MoveToOuter(x.clamp(-1, 1).to(ScalarType.Float32));
        }
        finally
        {
            foreach (var g in generators) g.Dispose();
        }
    }

    /// <summary>One float64 standard normal image per sample, each from its own generator: [B, C, H, W] on the CPU.</summary>
    private static Tensor StandardNormal(Generator[] generators, long[] shape) =>
        torch.stack(generators.Select(g => torch.randn(shape, ScalarType.Float64, Device.CPU, g)).ToArray());

    private Tensor Denoise(Tensor x, double sigma, Tensor? masks, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var input = x.to(ScalarType.Float32, device);
        var sigmas = torch.full([x.shape[0]], sigma, ScalarType.Float32, device);
        var denoised = masks is null
            ? _model.forward(input, sigmas)
            : _model.forward(input * masks, sigmas, masks);
        return scope.MoveToOuter(denoised.to(ScalarType.Float64, Device.CPU));
    }

    /// <summary>The fixed masks M = A ⊙ B of the samples, float32 [B, Cm, H, W]: A drawn like the training masks and
    /// B ~ Bernoulli(1 − δ), both from a generator keyed by the sample's seed.</summary>
    public Tensor DrawMasks(IReadOnlyList<ulong> seeds)
    {
        var mask = Mode.Mask ?? throw new InvalidOperationException("plain sampling uses no masks");
        var network = _model.Network;
        var (c, r, cm) = (network.ImageChannels, network.Resolution, Mode.MaskChannels);
        var values = new float[seeds.Count * cm * r * r];
        for (var b = 0; b < seeds.Count; b++)
        {
            var random = new SeededRandom(seeds[b], 0x5A3F1E);
            var sample = new CorruptionSample(new float[c * r * r], c, r, r, cm);
            mask.Apply(sample, random);
            for (var i = 0; i < cm * r * r; i++)
                values[b * cm * r * r + i] = sample.Mask[i] != 0 && !random.NextBernoulli(Mode.Delta) ? 1f : 0f;
        }
        return torch.tensor(values, [seeds.Count, cm, r, r]);
    }

    /// <summary>Pixels in [-1, 1] to uint8 [0, 255] (rounded), the format samples are stored in.</summary>
    public static Tensor ToBytes(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(((images.clamp(-1, 1) + 1) * 127.5).round().to(ScalarType.Byte));
    }
}
