namespace AmbientDiffusion.Data;

/// <summary>Dataset images as HWC RGB bytes, the tiles of previews and sample sheets (laid out and encoded by <c>Reporting.ImageSheet</c>).</summary>
public static class ImageGrid
{
    /// <summary>Converts a CHW image in [-1, 1] units (1 or 3 channels) to HWC RGB bytes; pixels whose
    /// <paramref name="mask"/> (1 or C planes) is 0 are painted <paramref name="missingColor"/>.</summary>
    public static byte[] ToRgb(ReadOnlySpan<float> chw, int channels, int height, int width, ReadOnlySpan<float> mask = default, int maskChannels = 1, (byte r, byte g, byte b)? missingColor = null)
    {
        var rgb = new byte[height * width * 3];
        var plane = height * width;
        var missing = missingColor ?? (255, 0, 255);
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
            {
                var source = channels == 1 ? 0 : c;
                var removed = !mask.IsEmpty && mask[(maskChannels == 1 ? 0 : source) * plane + i] == 0;
                rgb[i * 3 + c] = removed
                    ? (c == 0 ? missing.r : c == 1 ? missing.g : missing.b)
                    : (byte)Math.Clamp(Math.Round((chw[source * plane + i] + 1) * 127.5), 0, 255);
            }
        return rgb;
    }

    /// <summary>Converts a CHW uint8 image (1 or 3 channels) to HWC RGB bytes (grey images repeated over R, G, B).</summary>
    public static byte[] BytesToRgb(ReadOnlySpan<byte> chw, int channels, int height, int width)
    {
        var plane = height * width;
        if (channels is not (1 or 3) || chw.Length < channels * plane) throw new ArgumentException($"expected a {channels}x{height}x{width} image with 1 or 3 channels");
        var rgb = new byte[plane * 3];
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
                rgb[i * 3 + c] = chw[(channels == 1 ? 0 : c) * plane + i];
        return rgb;
    }
}
