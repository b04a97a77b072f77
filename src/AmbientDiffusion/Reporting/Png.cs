using SkiaSharp;

namespace AmbientDiffusion.Reporting;

/// <summary>PNG encoding through Skia, for every picture and chart the reports write.</summary>
public static class Png
{
    /// <summary>An RGB image (HWC bytes, <paramref name="height"/>×<paramref name="width"/>) as a PNG file's bytes.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> rgb, int height, int width)
    {
        using var bitmap = Picture.Bitmap(rgb, height, width);
        return Encode(bitmap);
    }

    internal static byte[] Encode(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"Skia could not encode a {bitmap.Width}x{bitmap.Height} PNG");
        return data.ToArray();
    }
}
