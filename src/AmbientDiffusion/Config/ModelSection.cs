namespace AmbientDiffusion.Config;

/// <summary>EDM's DDPM++ U-Net (ambient-spec §4).</summary>
public sealed class ModelSection
{
#pragma warning disable CS1591
    public int ModelChannels { get; set; } = 64;
    public List<int> ChannelMult { get; set; } = [1, 2, 2];
    public int NumBlocks { get; set; } = 2;
    public List<int> AttnResolutions { get; set; } = [16];
    public double Dropout { get; set; } = 0.1;
    public bool Gated { get; set; }
#pragma warning restore CS1591

    /// <summary>How ambient models precondition pixels their input hides: <c>per_pixel</c> (default: as if infinitely
    /// noisy, c_skip = 0 and c_out = σ_d, with the matching loss weight) or <c>uniform</c> (ambient-spec §2 and the
    /// official code). See <see cref="Diffusion.EdmPreconditioner"/>.</summary>
    public string MaskPreconditioning { get; set; } = "per_pixel";

    internal void Validate()
    {
        ExperimentConfig.Check(ModelChannels is >= 8 and <= 1024 && ModelChannels % 4 == 0, "model.model_channels", ModelChannels, "a multiple of 4 in [8, 1024]");
        ExperimentConfig.Check(ChannelMult.Count is >= 1 and <= 6 && ChannelMult.All(m => m is >= 1 and <= 16), "model.channel_mult", ChannelMult, "1 to 6 multipliers in [1, 16]");
        ExperimentConfig.Check(NumBlocks is >= 1 and <= 8, "model.num_blocks", NumBlocks, "1 to 8 blocks per level");
        ExperimentConfig.Check(AttnResolutions.All(r => r >= 1), "model.attn_resolutions", AttnResolutions, "positive resolutions");
        ExperimentConfig.Check(Dropout is >= 0 and < 1, "model.dropout", Dropout, "a probability in [0, 1)");
        ExperimentConfig.Check(MaskPreconditioning is "per_pixel" or "uniform", "model.mask_preconditioning", MaskPreconditioning, "per_pixel or uniform");
    }
}
