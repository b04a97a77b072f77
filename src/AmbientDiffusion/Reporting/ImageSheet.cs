namespace AmbientDiffusion.Reporting;

/// <summary>
/// Equally sized RGB images (HWC bytes) laid out row by row with a gap between them on white, each placed 1:1 or
/// enlarged by a whole factor without smoothing: sample sheets, data previews, neighbour and comparison grids.
/// <see cref="Png"/> is the one "grid of images to PNG bytes".
/// </summary>
public static class ImageSheet
{
    private static readonly (byte, byte, byte) Paper = (255, 255, 255);

    /// <summary>The sheet's size in pixels for <paramref name="count"/> images of <paramref name="height"/>×<paramref name="width"/>.</summary>
    public static (int Height, int Width) Size(int count, int height, int width, int columns, int gap, int scale = 1)
    {
        if (count < 1) throw new ArgumentException("no images to lay out", nameof(count));
        columns = Math.Max(1, Math.Min(columns, count));
        var rows = (count + columns - 1) / columns;
        return (rows * height * scale + (rows + 1) * gap, columns * width * scale + (columns + 1) * gap);
    }

    /// <summary>Draws the images into <paramref name="picture"/> with the sheet's top-left corner at (<paramref name="left"/>, <paramref name="top"/>).</summary>
    public static void Draw(Picture picture, IReadOnlyList<byte[]> images, int height, int width, int columns, int gap, int left, int top, int scale = 1)
    {
        if (images.Count == 0) throw new ArgumentException("no images to lay out", nameof(images));
        columns = Math.Max(1, Math.Min(columns, images.Count));
        for (var i = 0; i < images.Count; i++)
        {
            if (images[i].Length != height * width * 3) throw new ArgumentException($"image {i} is not {height}x{width} RGB", nameof(images));
            picture.Image(images[i], height, width,
                left + gap + i % columns * (width * scale + gap), top + gap + i / columns * (height * scale + gap), scale);
        }
    }

    /// <summary>The sheet as a picture (dispose it).</summary>
    public static Picture Render(IReadOnlyList<byte[]> images, int height, int width, int columns, int gap = 2, int scale = 1)
    {
        var (h, w) = Size(images.Count, height, width, columns, gap, scale);
        var picture = new Picture(w, h, Paper);
        Draw(picture, images, height, width, columns, gap, 0, 0, scale);
        return picture;
    }

    /// <summary>The sheet as PNG bytes.</summary>
    public static byte[] Png(IReadOnlyList<byte[]> images, int height, int width, int columns, int gap = 2, int scale = 1)
    {
        using var picture = Render(images, height, width, columns, gap, scale);
        return picture.ToPng();
    }
}
