using System.Globalization;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// The run's story in one picture (<c>story.png</c>): corrupted training images exactly as the trainer read them
/// (removed pixels magenta, as in the data preview) beside samples of the trained model, each grid under a short
/// caption. It reads only the corrupted artifact and the samples, never a clean image.
/// </summary>
public static class StoryPicture
{
    /// <summary>Images shown on each side.</summary>
    public const int DefaultCount = 16;

    private const int Columns = 4, Gap = 3, Margin = 12, TitleScale = 2, ArrowScale = 3, LineGap = 5;

    /// <summary>Tiles are enlarged by a whole factor to at least this many pixels, so that 28×28 images stay legible.</summary>
    private const int MinTileSize = 84;

    private static readonly (byte R, byte G, byte B) Ink = (33, 37, 41), Muted = (90, 98, 106), Paper = (255, 255, 255);

    /// <summary>A caption: a title line and a smaller note under it.</summary>
    public sealed record Caption(string Title, string Note);

    /// <summary>Writes <paramref name="pngPath"/> from the first <paramref name="count"/> images of the corrupted dataset
    /// <paramref name="corruptedPath"/> and of the samples file <paramref name="samplesPath"/> (they must be the same size).</summary>
    public static void Write(string corruptedPath, string samplesPath, string pngPath, int count = DefaultCount)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "expected at least 1 image per side");
        var (seen, height, width, seenCaption) = SeenTiles(corruptedPath, count);
        var (generated, sampleHeight, sampleWidth, total) = SampleTiles(samplesPath, count);
        if ((sampleHeight, sampleWidth) != (height, width))
            throw new InvalidDataException($"{samplesPath}: samples are {sampleHeight}x{sampleWidth}, but {corruptedPath} holds {height}x{width} images");
        var canvas = Render(seen, generated, height, width, seenCaption,
            new Caption("What it generates", $"{total} samples, trained on corrupted images only"));
        AtomicFile.WriteAllBytes(pngPath, canvas.ToPng());
    }

    /// <summary>Lays out the two grids of RGB tiles (HWC bytes, <paramref name="height"/>×<paramref name="width"/>) with
    /// their captions and an arrow between them.</summary>
    public static RasterCanvas Render(IReadOnlyList<byte[]> seen, IReadOnlyList<byte[]> generated, int height, int width, Caption left, Caption right)
    {
        if (seen.Count == 0 || generated.Count == 0) throw new ArgumentException("both sides need at least one image");
        var scale = Math.Max(1, (MinTileSize + Math.Max(height, width) - 1) / Math.Max(height, width));
        var leftGrid = Grid(seen, height, width, scale);
        var rightGrid = Grid(generated, height, width, scale);
        var leftWidth = Math.Max(leftGrid.Width, CaptionWidth(left));
        var rightWidth = Math.Max(rightGrid.Width, CaptionWidth(right));
        var arrowWidth = BitmapFont.MeasureWidth("->", ArrowScale) + 2 * Margin;
        var captionHeight = BitmapFont.GlyphHeight * (TitleScale + 1) + 2 * LineGap;
        var gridTop = Margin + captionHeight;
        var canvas = new RasterCanvas(Margin + leftWidth + arrowWidth + rightWidth + Margin,
            gridTop + Math.Max(leftGrid.Height, rightGrid.Height) + Margin, Paper);

        var rightLeft = Margin + leftWidth + arrowWidth;
        DrawCaption(canvas, Margin, left);
        DrawCaption(canvas, rightLeft, right);
        Blit(canvas, leftGrid, Margin, gridTop);
        Blit(canvas, rightGrid, rightLeft, gridTop);
        var arrowTop = gridTop + leftGrid.Height / 2 - BitmapFont.GlyphHeight * ArrowScale / 2;
        canvas.Text(Margin + leftWidth + Margin, arrowTop, "->", Ink, ArrowScale);
        return canvas;
    }

    private static (List<byte[]> Tiles, int Height, int Width, Caption Caption) SeenTiles(string corruptedPath, int count)
    {
        using var corrupted = CorruptedDataset.Open(corruptedPath);
        var (c, h, w) = (corrupted.Channels, corrupted.Height, corrupted.Width);
        var observation = new float[c * h * w];
        var mask = new float[corrupted.MaskChannels * h * w];
        var tiles = new List<byte[]>();
        double removed = 0, total = 0;
        for (var i = 0; i < Math.Min(count, corrupted.Count); i++)
        {
            corrupted.ReadSample(i, observation, mask);
            tiles.Add(ImageGrid.ToRgb(observation, c, h, w, mask, corrupted.MaskChannels));
            foreach (var m in mask) removed += m == 0 ? 1 : 0;
            total += mask.Length;
        }
        var missing = removed / total;
        var note = missing > 0 ? $"{(missing * 100).ToString("0", CultureInfo.InvariantCulture)}% of pixels removed (magenta)"
            : corrupted.HasNoise ? $"noise up to sigma {corrupted.MaxNoiseSigma.ToString("0.###", CultureInfo.InvariantCulture)}"
            : "its training images";
        return (tiles, h, w, new Caption("What the model saw", note));
    }

    private static (List<byte[]> Tiles, int Height, int Width, long Total) SampleTiles(string samplesPath, int count)
    {
        using var file = SampleSet.Open(samplesPath);
        var shape = file.Info(SampleSet.SamplesKey).Shape;
        var (n, c, h, w) = (shape[0], (int)shape[1], (int)shape[2], (int)shape[3]);
        var bytes = new byte[c * h * w];
        var tiles = new List<byte[]>();
        for (var i = 0; i < Math.Min(count, n); i++)
        {
            file.ReadBytes(SampleSet.SamplesKey, i * bytes.LongLength, bytes);
            tiles.Add(ImageGrid.BytesToRgb(bytes, c, h, w));
        }
        return (tiles, h, w, n);
    }

    private sealed record Raster(byte[] Pixels, int Height, int Width);

    private static Raster Grid(IReadOnlyList<byte[]> tiles, int height, int width, int scale)
    {
        var enlarged = tiles.Select(t => Enlarge(t, height, width, scale)).ToList();
        var pixels = ImageGrid.Compose(enlarged, height * scale, width * scale, Columns, Gap, out var gridHeight, out var gridWidth);
        return new Raster(pixels, gridHeight, gridWidth);
    }

    /// <summary>Nearest-neighbour enlargement by a whole factor: every pixel stays a crisp square.</summary>
    private static byte[] Enlarge(byte[] rgb, int height, int width, int scale)
    {
        if (scale == 1) return rgb;
        var result = new byte[rgb.Length * scale * scale];
        for (var y = 0; y < height * scale; y++)
            for (var x = 0; x < width * scale; x++)
                rgb.AsSpan(((y / scale) * width + x / scale) * 3, 3).CopyTo(result.AsSpan((y * width * scale + x) * 3));
        return result;
    }

    private static void Blit(RasterCanvas canvas, Raster raster, int left, int top)
    {
        for (var y = 0; y < raster.Height; y++)
            raster.Pixels.AsSpan(y * raster.Width * 3, raster.Width * 3).CopyTo(canvas.Pixels.AsSpan(((top + y) * canvas.Width + left) * 3));
    }

    private static int CaptionWidth(Caption caption) =>
        Math.Max(BitmapFont.MeasureWidth(caption.Title, TitleScale), BitmapFont.MeasureWidth(caption.Note));

    private static void DrawCaption(RasterCanvas canvas, int left, Caption caption)
    {
        canvas.Text(left + Gap, Margin, caption.Title, Ink, TitleScale);
        canvas.Text(left + Gap, Margin + BitmapFont.GlyphHeight * TitleScale + LineGap, caption.Note, Muted);
    }
}
