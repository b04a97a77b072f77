using AmbientDiffusion.Common;

namespace AmbientDiffusion.Models;

/// <summary>How an ambient model preconditions the pixels its input hides (see <c>Diffusion.EdmPreconditioner</c>).</summary>
public enum MaskPreconditioning
{
    /// <summary>As if infinitely noisy: c_skip = 0 and c_out = σ_d there, with the matching loss weight (default).</summary>
    PerPixel,

    /// <summary>EDM's preconditioning for every pixel (ambient-spec §2 and the official code).</summary>
    Uniform,
}

/// <summary>How a gated convolution gates: y = conv(x, W)·g + b.</summary>
public enum GateActivation
{
    /// <summary>g = σ(conv(x, G)), the gated convolution as published (the default).</summary>
    Sigmoid,

    /// <summary>g = σ(σ(conv(x, G))), as the official ambient-diffusion code computes it (its gate lies in (0.5, 0.73));
    /// for networks imported from that code, so they compute what they were trained to.</summary>
    SigmoidTwice,
}

/// <summary>
/// EDM's DDPM++ U-Net as configured (the <c>model:</c> section; ambient-spec §4). The only place its defaults and bounds
/// live: the network is built from these plus the data's geometry (<see cref="ToUNetOptions"/>).
/// </summary>
public sealed record ModelSettings
{
    /// <summary>Channels at the first resolution level.</summary>
    public int ModelChannels { get; init; } = 64;

    /// <summary>Channel multipliers per resolution level (each level after the first halves the resolution).</summary>
    public List<int> ChannelMult { get; init; } = [1, 2, 2];

    /// <summary>Residual blocks per level in the encoder (the decoder has one more).</summary>
    public int NumBlocks { get; init; } = 2;

    /// <summary>Resolutions with self-attention.</summary>
    public List<int> AttnResolutions { get; init; } = [16];

    /// <summary>Dropout probability in the residual blocks.</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Gated convolutions (the paper's 118M CelebA network).</summary>
    public bool Gated { get; init; }

    /// <summary>The gate of gated convolutions; unset is <see cref="Models.GateActivation.Sigmoid"/> (unset rather than a
    /// default value, so configs and checkpoints that predate the setting serialise as they always did).</summary>
    public GateActivation? GateActivation { get; init; }

    /// <summary>How pixels hidden by the mask are preconditioned (ambient models only).</summary>
    public MaskPreconditioning MaskPreconditioning { get; init; } = MaskPreconditioning.PerPixel;

    /// <summary>Classes the model is conditioned on: null (default) takes the training data's class count (0 for data
    /// without labels); 0 turns conditioning off.</summary>
    public int? LabelDim { get; init; }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(ModelChannels is >= 8 and <= 1024 && ModelChannels % 4 == 0, "model_channels", ModelChannels, "a multiple of 4 in [8, 1024]");
        SettingException.Check(ChannelMult.Count is >= 1 and <= 6 && ChannelMult.All(m => m is >= 1 and <= 16), "channel_mult", ChannelMult, "1 to 6 multipliers in [1, 16]");
        SettingException.Check(NumBlocks is >= 1 and <= 8, "num_blocks", NumBlocks, "1 to 8 blocks per level");
        SettingException.Check(AttnResolutions.All(r => r >= 1), "attn_resolutions", AttnResolutions, "positive resolutions");
        SettingException.Check(Dropout is >= 0 and < 1, "dropout", Dropout, "a probability in [0, 1)");
        SettingException.Check(LabelDim is null or (>= 0 and <= 100_000), "label_dim", LabelDim?.ToString() ?? "null", "0 (unconditional) to 100000 classes, or unset (the data's class count)");
        SettingException.Check(GateActivation is null || Enum.IsDefined(GateActivation.Value), "gate_activation", GateActivation?.ToString() ?? "null", Yaml.Choices<GateActivation>());
        SettingException.Check(Enum.IsDefined(MaskPreconditioning), "mask_preconditioning", MaskPreconditioning, Yaml.Choices<MaskPreconditioning>());
    }

    /// <summary>The network's options for images of the given geometry (its label dimension included).</summary>
    public UNetOptions ToUNetOptions(NetworkGeometry geometry) =>
        new(geometry.Resolution, geometry.ImageChannels, geometry.MaskChannels, ModelChannels, ChannelMult, NumBlocks, AttnResolutions, Dropout, Gated, LabelDim: geometry.LabelDim,
            GateSigmoidTwice: GateActivation == Models.GateActivation.SigmoidTwice);

    /// <summary>The label dimension for data with <paramref name="dataClasses"/> classes (0 without labels): the
    /// configured one, or the data's when unset. A configured dimension the data cannot fill is an error naming
    /// <paramref name="dataPath"/>.</summary>
    public int ResolveLabelDim(int dataClasses, string dataPath)
    {
        var dim = LabelDim ?? dataClasses;
        if (dim > 0 && dataClasses == 0)
            throw new InvalidDataException($"model.label_dim = {dim}, but {dataPath} has no class labels: set model.label_dim to 0 (or leave it unset), or prepare the data from a labelled source");
        if (dim > 0 && dim < dataClasses)
            throw new InvalidDataException($"model.label_dim = {dim} is below the {dataClasses} classes of {dataPath}: a label id would be out of range (set it to at least {dataClasses}, or 0 for an unconditional model)");
        return dim;
    }
}
