namespace AmbientDiffusion.Models;

/// <summary>The data-dependent shape of a network: image side, image channels and mask channels (0 without masks).</summary>
public sealed record NetworkGeometry(int Resolution, int ImageChannels, int MaskChannels);
