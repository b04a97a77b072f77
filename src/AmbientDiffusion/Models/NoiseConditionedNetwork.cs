using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Models;

/// <summary>
/// The raw network F of EDM: maps an input [B, ImageChannels + MaskChannels, H, W], noise labels c_noise [B] and, for
/// class-conditional networks, one-hot class labels [B, LabelDim] (an all-zero row is the null label) to
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

    /// <summary>Width of the one-hot class labels the network is conditioned on (0: unconditional).</summary>
    public virtual int LabelDim => 0;

    /// <summary>F(input, c_noise) of an unconditional network.</summary>
    public abstract Tensor forward(Tensor input, Tensor noiseLabels);

    /// <summary>F(input, c_noise, class labels): <paramref name="classLabels"/> float [B, LabelDim] is required exactly when
    /// <see cref="LabelDim"/> &gt; 0 (an unconditional network takes none).</summary>
    public virtual Tensor forward(Tensor input, Tensor noiseLabels, Tensor? classLabels) =>
        classLabels is null ? forward(input, noiseLabels) : throw new ArgumentException("this model is unconditional: it takes no class labels");
}
