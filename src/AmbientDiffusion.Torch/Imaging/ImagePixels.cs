namespace AmbientDiffusion.Torch.Imaging;

/// <summary>A decoded image: 8-bit pixels in row-major [H, W, C] order.</summary>
public sealed record ImagePixels(byte[] Pixels, int Height, int Width, int Channels);
