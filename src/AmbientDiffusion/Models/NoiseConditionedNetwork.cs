using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Models;

/// <summary>
/// The raw network F of EDM: maps an input [B, ImageChannels + MaskChannels, H, W] and noise labels c_noise [B] to
/// [B, ImageChannels, H, W]. It knows nothing of σ scaling: <see cref="Diffusion.EdmPreconditioner"/> wraps it.
/// </summary>
public abstract class NoiseConditionedNetwork : torch.nn.Module
{
    /// <summary>Colour channels of the images (and of the output).</summary>
    public abstract int ImageChannels { get; }

    /// <summary>Mask channels appended to the input: 0 for models of clean or noisy data, 1 (shared masks) or C
    /// (per-channel masks) for ambient models.</summary>
    public abstract int MaskChannels { get; }

    /// <summary>Image side length the network was built for.</summary>
    public abstract int Resolution { get; }

    /// <summary>F(input, c_noise).</summary>
    public abstract Tensor forward(Tensor input, Tensor noiseLabels);
}
