namespace AmbientDiffusion.Torch.Imaging;

/// <summary>
/// Converts a decoded gray or RGBA buffer to 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) channels. Alpha is
/// dropped, never composited, and colour becomes gray by the integer luma (77 R + 150 G + 29 B) / 256: both exactly as
/// the stb_image decoder before Skia did, so datasets prepared from colour PNGs as gray keep their bytes.
/// </summary>
internal static class ChannelConversion
{
    private static byte Luma(byte r, byte g, byte b) => (byte)((r * 77 + g * 150 + b * 29) >> 8);

    /// <summary>Expands <paramref name="gray"/> (one byte a pixel) to <paramref name="channels"/>; alpha is opaque.</summary>
    internal static byte[] FromGray(ReadOnlySpan<byte> gray, int channels)
    {
        if (channels == 1) return gray.ToArray();
        var output = new byte[gray.Length * channels];
        for (int i = 0, o = 0; i < gray.Length; i++, o += channels)
        {
            var v = gray[i];
            switch (channels)
            {
                case 2: (output[o], output[o + 1]) = (v, 255); break;
                case 3: (output[o], output[o + 1], output[o + 2]) = (v, v, v); break;
                default: (output[o], output[o + 1], output[o + 2], output[o + 3]) = (v, v, v, 255); break;
            }
        }
        return output;
    }

    /// <summary>Converts <paramref name="rgba"/> (four unpremultiplied bytes a pixel) to <paramref name="channels"/>.</summary>
    internal static byte[] FromRgba(ReadOnlySpan<byte> rgba, int channels)
    {
        if (channels == 4) return rgba.ToArray();
        var pixels = rgba.Length / 4;
        var output = new byte[pixels * channels];
        for (int i = 0, o = 0; i < rgba.Length; i += 4, o += channels)
        {
            switch (channels)
            {
                case 1: output[o] = Luma(rgba[i], rgba[i + 1], rgba[i + 2]); break;
                case 2: (output[o], output[o + 1]) = (Luma(rgba[i], rgba[i + 1], rgba[i + 2]), rgba[i + 3]); break;
                default: (output[o], output[o + 1], output[o + 2]) = (rgba[i], rgba[i + 1], rgba[i + 2]); break;
            }
        }
        return output;
    }
}
