using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// EDM's Heun sampler. Each sample owns a generator seeded by its seed (initial noise, churn noise and its fixed
/// mask all come from it), so a sample depends on its seed only, never on the batch it was drawn in. The state is
/// kept in float64 on the CPU; the network runs in float32 on its device. Outputs are clipped to [-1, 1] only at the end.
/// The mode (<see cref="PlainSampling"/>, <see cref="FixedMaskSampling"/>, <see cref="EarlyStopSampling"/>) decides the
/// denoiser's input and where the schedule ends. A class-conditional model is sampled for one class per sample with
/// classifier-free guidance D = D_u + g·(D_c − D_u): one batched call of 2B (conditional and null labels) per evaluation
/// when g ∉ {0, 1}, one call of B otherwise (g = 1 is plain conditional sampling, g = 0 unconditional).
/// </summary>
public sealed class EdmSampler
{
    private readonly EdmPreconditioner _model;
    private readonly double[] _sigmas;

    /// <summary>A sampler for <paramref name="model"/>.</summary>
    public EdmSampler(EdmPreconditioner model, SamplerOptions options, SamplingMode mode)
    {
        options.Validate();
        var maskChannels = model.Network.MaskChannels;
        switch (mode)
        {
            case FixedMaskSampling fixedMask when maskChannels == 0:
                throw new ArgumentException($"the fixed-mask sampler ({fixedMask.Describe()}) needs a model trained with masks (the ambient loss)");
            case FixedMaskSampling fixedMask when fixedMask.MaskChannels != maskChannels:
                throw new ArgumentException($"the sampler's masks have {fixedMask.MaskChannels} channel(s), the model takes {maskChannels}");
            case not FixedMaskSampling when maskChannels > 0:
                throw new ArgumentException($"this model takes a {maskChannels}-channel mask input: sample it with the fixed-mask sampler");
            case EarlyStopSampling early when !(early.StopSigma > 0 && early.StopSigma < options.SigmaMax):
                throw new ArgumentException($"early-stop σ_n = {early.StopSigma} must lie in (0, sigma_max)");
        }
        var labelDim = model.Network.LabelDim;
        if (labelDim == 0 && options.Guidance != 1)
            throw new ArgumentException($"guidance {options.Guidance} needs a class-conditional model; this one is unconditional (use guidance 1)");
        if (labelDim == 0 && options.Class is not null)
            throw new ArgumentException($"class {options.Class} was asked for, but this model is unconditional (trained without class labels)");
        if (labelDim > 0 && options.Class is { } k && k >= labelDim)
            throw new ArgumentException($"class {k} is out of range: the model has {labelDim} classes (0 to {labelDim - 1})");
        (_model, Options, Mode) = (model, options, mode);
        // t_0 … t_{N-1} from σ_max to σ_min (or σ_n), then t_N = 0 for the plain sampler's final Euler step.
        var stop = (mode as EarlyStopSampling)?.StopSigma;
        var schedule = ReverseSde.KarrasSchedule(options.SigmaMax, stop ?? options.SigmaMin, options.Steps - 1, options.Rho);
        _sigmas = stop is not null ? schedule : [.. schedule, 0.0];
    }

    /// <summary>The settings.</summary>
    public SamplerOptions Options { get; }

    /// <summary>How the model is used.</summary>
    public SamplingMode Mode { get; }

    /// <summary>The noise levels visited, decreasing (ending in 0 for the plain sampler, in σ_n for early stop).</summary>
    public IReadOnlyList<double> Schedule => _sigmas;

    /// <summary>The classes <see cref="Sample"/> draws <paramref name="seeds"/> for when given none: null for an
    /// unconditional model, else the options' class or the balanced rule (<see cref="SampleClasses"/>).</summary>
    public long[]? DefaultClasses(IReadOnlyList<ulong> seeds) =>
        _model.Network.LabelDim == 0 ? null : SampleClasses.For(seeds, _model.Network.LabelDim, Options.Class);

    /// <summary>Draws one sample per seed: float32 [B, C, H, W] in [-1, 1] on the CPU. A class-conditional model draws
    /// sample b for <paramref name="classes"/>[b] (default: <see cref="DefaultClasses"/>); <paramref name="views"/>
    /// starts samples from nearby noises (<see cref="SampleViews"/>).</summary>
    public Tensor Sample(IReadOnlyList<ulong> seeds, IReadOnlyList<long>? classes = null, SampleViews? views = null)
    {
        if (seeds.Count == 0) throw new ArgumentException("no seeds to sample");
        var labelDim = _model.Network.LabelDim;
        if (classes is not null && labelDim == 0) throw new ArgumentException("classes were given, but this model is unconditional (trained without class labels)");
        if (classes is not null && classes.Count != seeds.Count) throw new ArgumentException($"{classes.Count} classes for {seeds.Count} seeds");
        classes ??= DefaultClasses(seeds);
        if (classes is not null) SampleClasses.Check(classes, labelDim);
        views?.Check(seeds.Count);
        using var noGrad = torch.no_grad();
        using var outer = torch.NewDisposeScope();
        var network = _model.Network;
        var shape = new long[] { network.ImageChannels, network.Resolution, network.Resolution };
        var device = _model.parameters().FirstOrDefault()?.device ?? Device.CPU;
        using var generators = new StackedGenerator(seeds);
        var masks = Mode is FixedMaskSampling ? DrawMasks(seeds).to(device) : null;
        var labels = classes is null ? null : ClassLabels.OneHot(classes, labelDim, device);
        var x = StartingNoise(generators, shape, views) * _sigmas[0];
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
            var slope = (xHat - Denoise(xHat, hat, masks, labels, device)) / hat;
            var xNext = xHat + (next - hat) * slope;
            if (next > 0)
            {
                // Heun's correction: average the slopes at both ends (skipped on the final step to σ = 0).
                var slopeNext = (xNext - Denoise(xNext, next, masks, labels, device)) / next;
                xNext = xHat + (next - hat) * (0.5 * slope + 0.5 * slopeNext);
            }
            x = scope.MoveToOuter(xNext);
        }
        if (Mode is EarlyStopSampling early) x = Denoise(x, early.StopSigma, masks, labels, device);
        return outer.MoveToOuter(x.clamp(-1, 1).to(ScalarType.Float32));
    }

    /// <summary>One float64 standard normal image per sample, each from its own generator: [B, C, H, W] on the CPU.</summary>
    private static Tensor StandardNormal(StackedGenerator generators, long[] shape) => generators.randn(shape, ScalarType.Float64);

    /// <summary>The starting noise: x_T per seed, or with <paramref name="views"/> (x_T + s·ε_v)/√(1 + s²).</summary>
    private static Tensor StartingNoise(StackedGenerator generators, long[] shape, SampleViews? views)
    {
        if (views is null) return StandardNormal(generators, shape);
        var scale = views.Scale;
        return torch.stack(Enumerable.Range(0, generators.Count).Select(b =>
        {
            var g = generators[b];
            var start = torch.randn(shape, ScalarType.Float64, Device.CPU, g);
            var nearby = start;
            for (var v = 0; v <= views.Views[b]; v++) nearby = torch.randn(shape, ScalarType.Float64, Device.CPU, g);
            return (start + nearby * scale) / Math.Sqrt(1 + scale * scale);
        }).ToArray());
    }

    /// <summary>D(x, σ) in float64 on the CPU; for class-conditional models guided by <see cref="SamplerOptions.Guidance"/>.</summary>
    private Tensor Denoise(Tensor x, double sigma, Tensor? masks, Tensor? labels, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var input = x.to(ScalarType.Float32, device);
        if (masks is not null) input = input * masks;
        var batch = x.shape[0];
        var guidance = Options.Guidance;
        Tensor Call(Tensor inputs, Tensor? maskInputs, Tensor? labelInputs) =>
            _model.forward(inputs, torch.full([inputs.shape[0]], sigma, ScalarType.Float32, device), maskInputs, labelInputs);
        Tensor denoised;
        if (labels is null || guidance == 1)
        {
            denoised = Call(input, masks, labels);
        }
        else if (guidance == 0)
        {
            denoised = Call(input, masks, torch.zeros_like(labels));
        }
        else
        {
            // One call of 2B: the conditional half, then the null-label half.
            var both = Call(torch.cat([input, input], 0), masks is null ? null : torch.cat([masks, masks], 0), torch.cat([labels, torch.zeros_like(labels)], 0))
                .to(ScalarType.Float64, Device.CPU);
            var (conditional, unconditional) = (both.narrow(0, 0, batch), both.narrow(0, batch, batch));
            return scope.MoveToOuter(unconditional + (conditional - unconditional) * guidance);
        }
        return scope.MoveToOuter(denoised.to(ScalarType.Float64, Device.CPU));
    }

    /// <summary>The fixed masks of the samples (see <see cref="FixedMaskSampling.DrawMasks"/>).</summary>
    public Tensor DrawMasks(IReadOnlyList<ulong> seeds) =>
        (Mode as FixedMaskSampling ?? throw new InvalidOperationException("plain sampling uses no masks")).DrawMasks(seeds, _model.Network.ImageChannels, _model.Network.Resolution);

    /// <summary>Pixels in [-1, 1] to uint8 [0, 255] (rounded), the format samples are stored in.</summary>
    public static Tensor ToBytes(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(((images.clamp(-1, 1) + 1) * 127.5).round().to(ScalarType.Byte));
    }
}
