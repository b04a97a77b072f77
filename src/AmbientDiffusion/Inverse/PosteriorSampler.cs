using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// Posterior sampling of x given y = A x + σ_y z with a diffusion prior, in EDM's deterministic Heun sampler (the
/// schedule of <see cref="EdmSampler"/>). DPS follows each Heun step with a step down ∇‖y − A D(x_t)‖ taken at the
/// step's start; MMPS replaces every denoiser evaluation by its moment-matched posterior mean. Each sample's initial
/// noise comes from its own seed, so a reconstruction depends only on (seed, measurement, prior, settings). The state
/// is float64 on the CPU, or float32 when asked (EM's <c>posterior_state</c>; the initial noise is drawn in float64 and
/// rounded, so both states start from the same images).
/// </summary>
public sealed class PosteriorSampler
{
    private readonly double[] _sigmas;
    private readonly double? _stopSigma;
    private readonly ScalarType _state;

    /// <summary>A sampler; <paramref name="stopSigma"/> ends the schedule at σ_n for priors of noisy data;
    /// <paramref name="state"/> is the dtype of the sampler's state (float64 unless float32 is asked for).</summary>
    public PosteriorSampler(ReconstructionOptions options, double? stopSigma = null, ScalarType state = ScalarType.Float64)
    {
        if (state is not (ScalarType.Float64 or ScalarType.Float32)) throw new ArgumentException($"the sampler's state is float64 or float32, not {state}");
        _state = state;
        options.Validate();
        if (stopSigma is { } stop && !(stop > 0 && stop < options.SigmaMax)) throw new ArgumentException($"early-stop σ_n = {stop} must lie in (0, sigma_max)");
        Options = options;
        _stopSigma = stopSigma;
        var schedule = ReverseSde.KarrasSchedule(options.SigmaMax, stopSigma ?? options.SigmaMin, options.Steps - 1, options.Rho);
        _sigmas = stopSigma is not null ? schedule : [.. schedule, 0.0];
    }

    /// <summary>The settings.</summary>
    public ReconstructionOptions Options { get; }

    /// <summary>The noise levels visited, decreasing.</summary>
    public IReadOnlyList<double> Schedule => _sigmas;

    /// <summary>
    /// One posterior sample per row of <paramref name="y"/> (float64 [B, ..]) with the seed of that row: float64
    /// [B, C, H, W] clipped to [-1, 1]. <paramref name="measurementSigma"/> is the measurement's σ_y.
    /// </summary>
    public Tensor Sample(Denoiser denoiser, IForwardOperator op, Tensor y, IReadOnlyList<ulong> seeds, ImageShape shape, double measurementSigma,
        JacobianProduct product = JacobianProduct.Reverse)
    {
        if (product == JacobianProduct.Auto) throw new ArgumentException("resolve the Jacobian product (reverse or forward) before sampling");
        if (seeds.Count != y.shape[0]) throw new ArgumentException($"{seeds.Count} seeds for {y.shape[0]} measurements");
        using var outer = torch.NewDisposeScope();
        y = y.to(_state);
        var floor = Math.Max(measurementSigma, Options.MinMeasurementSigma);
        // The moment-matched mean is kept inside the data range: with a learned J a few CG steps can overshoot at
        // large σ, where the true posterior mean is still an average of images.
        Tensor Guided(Tensor x, double sigma) => PosteriorSteps.MomentMatched(denoiser, x, sigma, op, y, floor * floor, Options.CgIterations, product).clamp(-1, 1);
        Tensor Plain(Tensor x, double sigma)
        {
            using var noGrad = torch.no_grad();
            return denoiser(x, sigma);
        }
        var x = (InitialNoise(seeds, shape) * _sigmas[0]).to(_state);
        for (var i = 0; i + 1 < _sigmas.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            var (now, next) = (_sigmas[i], _sigmas[i + 1]);
            Tensor? gradient = null;
            Tensor denoised;
            if (Options.Method == PosteriorMethod.Mmps) denoised = Guided(x, now);
            else (denoised, gradient) = PosteriorSteps.DpsGradient(denoiser, x, now, op, y);
            var slope = (x - denoised) / now;
            var xNext = x + (next - now) * slope;
            if (next > 0)
            {
                var denoisedNext = Options.Method == PosteriorMethod.Mmps ? Guided(xNext, next) : Plain(xNext, next);
                xNext = x + (next - now) * (0.5 * slope + 0.5 * (xNext - denoisedNext) / next);
            }
            if (gradient is not null) xNext = xNext - Options.GuidanceScale * gradient;
            x = scope.MoveToOuter(xNext.detach());
        }
        if (_stopSigma is { } stop) x = Options.Method == PosteriorMethod.Mmps ? Guided(x, stop) : Plain(x, stop);
        return outer.MoveToOuter(x.clamp(-1, 1));
    }

    /// <summary>One standard normal image per seed, each from its own generator (as <see cref="EdmSampler"/>): float64 [B, C, H, W].</summary>
    public static Tensor InitialNoise(IReadOnlyList<ulong> seeds, ImageShape shape)
    {
        using var scope = torch.NewDisposeScope();
        var images = new List<Tensor>();
        foreach (var seed in seeds)
        {
            using var generator = new Generator(seed);
            images.Add(torch.randn(shape.Dims, ScalarType.Float64, Device.CPU, generator));
        }
        return scope.MoveToOuter(torch.stack(images));
    }
}
