namespace AmbientDiffusion.Models;

/// <summary>The data-dependent shape of a network: image side, image channels, mask channels (0 without masks) and
/// class-label dimension (0: unconditional; otherwise the one-hot width of the class conditioning).</summary>
public sealed record NetworkGeometry(int Resolution, int ImageChannels, int MaskChannels, int LabelDim = 0);
