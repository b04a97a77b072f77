using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// A trained checkpoint as a prior: its denoiser used the way its training implies (<see cref="SamplingModes"/>):
/// clean and naive models plainly, ambient models inside the fixed-mask sampler (one mask per sample seed, so the
/// guidance gradient flows through D(M ⊙ x, σ, M) as in the official code), tweedie models of noisy data stopping at σ_n.
/// Class-conditional models are used with the null label: the unconditional prior their label dropout trained.
/// </summary>
public sealed class CheckpointPrior : IDisposable
{
    private readonly CheckpointSampler _sampler;
    private readonly Device _device;

    private CheckpointPrior(CheckpointSampler sampler, Device device)
    {
        (_sampler, _device) = (sampler, device);
        // Guidance differentiates through the network with respect to its input only.
        foreach (var parameter in sampler.Model.parameters()) parameter.requires_grad_(false);
        var network = sampler.Model.Network;
        Shape = new ImageShape(network.ImageChannels, network.Resolution, network.Resolution);
    }

    /// <summary>Loads a checkpoint (EMA weights unless <paramref name="ema"/> is false) onto <paramref name="device"/>.</summary>
    public static CheckpointPrior Load(string checkpointPath, Device device, bool ema = true) => new(CheckpointSampler.Load(checkpointPath, device, ema), device);

    /// <summary>The images the model makes.</summary>
    public ImageShape Shape { get; }

    /// <summary>How the model is used (plain, fixed mask, early stop).</summary>
    public SamplingMode Mode => _sampler.Mode;

    /// <summary>The checkpoint file.</summary>
    public string CheckpointPath => _sampler.CheckpointPath;

    /// <summary>Where the schedule ends for priors of noisy data (σ_n), else null.</summary>
    public double? StopSigma => (Mode as EarlyStopSampling)?.StopSigma;

    /// <summary>What produced the prior, for the report.</summary>
    public IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string>
    {
        ["checkpoint"] = Path.GetFullPath(_sampler.CheckpointPath),
        ["weights"] = _sampler.UsesEma ? "ema" : "raw",
        ["prior_mode"] = Mode.Describe(),
        ["run_name"] = _sampler.RunName,
        ["loss"] = Common.Yaml.EnumName(_sampler.Header.Loss.Kind),
    };

    /// <summary>The denoiser for samples with these seeds (their fixed masks, for ambient models).</summary>
    public Denoiser For(IReadOnlyList<ulong> seeds)
    {
        var network = _sampler.Model.Network;
        var masks = Mode is FixedMaskSampling fixedMask ? fixedMask.DrawMasks(seeds, network.ImageChannels, network.Resolution).to(_device) : null;
        var labelDim = network.LabelDim;
        return (x, sigma) =>
        {
            using var scope = torch.NewDisposeScope();
            var input = x.to(ScalarType.Float32, _device);
            var sigmas = torch.full([x.shape[0]], sigma, ScalarType.Float32, _device);
            var nullLabels = labelDim > 0 ? torch.zeros([x.shape[0], labelDim], ScalarType.Float32, _device) : null;
            var denoised = masks is null
                ? _sampler.Model.forward(input, sigmas, classLabels: nullLabels)
                : _sampler.Model.forward(input * masks, sigmas, masks, nullLabels);
            return scope.MoveToOuter(denoised.to(x.dtype, Device.CPU));
        };
    }

    /// <inheritdoc />
    public void Dispose() => _sampler.Dispose();
}
