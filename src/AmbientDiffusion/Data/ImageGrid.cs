namespace AmbientDiffusion.Data;

/// <summary>Lays out equally sized RGB images (HWC uint8) in a grid with a gap between them, for previews and sample sheets.</summary>
public static class ImageGrid
{
    /// <summary>Composes <paramref name="images"/> (each [height, width, 3]) row by row, <paramref name="columns"/> per row.</summary>
    public static byte[] Compose(IReadOnlyList<byte[]> images, int height, int width, int columns, int gap, out int gridHeight, out int gridWidth, byte background = 255)
    {
        if (images.Count == 0) throw new ArgumentException("no images to lay out", nameof(images));
        columns = Math.Max(1, Math.Min(columns, images.Count));
        var rows = (images.Count + columns - 1) / columns;
        gridHeight = rows * height + (rows + 1) * gap;
        gridWidth = columns * width + (columns + 1) * gap;
        var grid = new byte[gridHeight * gridWidth * 3];
        Array.Fill(grid, background);
        for (var i = 0; i < images.Count; i++)
        {
            if (images[i].Length != height * width * 3) throw new ArgumentException($"image {i} is not {height}x{width} RGB", nameof(images));
            var top = gap + i / columns * (height + gap);
            var left = gap + i % columns * (width + gap);
            for (var y = 0; y < height; y++)
                images[i].AsSpan(y * width * 3, width * 3).CopyTo(grid.AsSpan(((top + y) * gridWidth + left) * 3));
        }
        return grid;
    }

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
