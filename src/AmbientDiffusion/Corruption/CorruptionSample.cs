namespace AmbientDiffusion.Corruption;

/// <summary>
/// One image being corrupted: pixels in [-1, 1] (CHW), the observation mask (1 observed, 0 removed; one channel when
/// shared across colours, C channels when per channel) and the standard deviation of the noise added so far.
/// </summary>
public sealed class CorruptionSample
{
    /// <summary>Starts from a clean image: every pixel observed, no noise.</summary>
    public CorruptionSample(float[] pixels, int channels, int height, int width, int maskChannels)
    {
        if (pixels.Length != channels * height * width) throw new ArgumentException("pixel buffer does not match the geometry", nameof(pixels));
        if (maskChannels != 1 && maskChannels != channels) throw new ArgumentException("mask channels must be 1 or C", nameof(maskChannels));
        (Pixels, Channels, Height, Width, MaskChannels) = (pixels, channels, height, width, maskChannels);
        Mask = new byte[maskChannels * height * width];
        Array.Fill(Mask, (byte)1);
    }

    /// <summary>Pixels, CHW, in [-1, 1] units.</summary>
    public float[] Pixels { get; }

    /// <summary>1 observed, 0 removed; [MaskChannels, H, W].</summary>
    public byte[] Mask { get; }

#pragma warning disable CS1591
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int MaskChannels { get; }
#pragma warning restore CS1591

    /// <summary>Standard deviation of the Gaussian noise in the pixels (0 for none).</summary>
    public double NoiseSigma { get; set; }

    /// <summary>Removes pixel (y, x) in every mask channel.</summary>
    public void RemovePixel(int y, int x)
    {
        for (var c = 0; c < MaskChannels; c++) Mask[(c * Height + y) * Width + x] = 0;
    }

    /// <summary>Removes pixel (y, x) of one colour channel (requires a per-channel mask).</summary>
    public void RemovePixel(int channel, int y, int x) => Mask[(channel * Height + y) * Width + x] = 0;

    /// <summary>Sets removed pixels to 0: what the corrupted dataset stores there.</summary>
    public void ZeroRemoved()
    {
        for (var c = 0; c < Channels; c++)
        {
            var maskPlane = MaskChannels == 1 ? 0 : c;
            for (var i = 0; i < Height * Width; i++)
                if (Mask[maskPlane * Height * Width + i] == 0) Pixels[c * Height * Width + i] = 0;
        }
    }
}
