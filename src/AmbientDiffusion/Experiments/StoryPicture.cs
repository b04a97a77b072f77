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

    private const int Columns = 4, Gap = 3, Margin = 12, LineGap = 5;

    /// <summary>Type sizes in pixels: caption title, its note, the arrow between the grids.</summary>
    private const float TitleSize = 20, NoteSize = 13, ArrowSize = 36;

    private const string Arrow = "\u2192";

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
        using var picture = Render(seen, generated, height, width, seenCaption,
            new Caption("What it generates", $"{total} samples, trained on corrupted images only"));
        AtomicFile.WriteAllBytes(pngPath, picture.ToPng());
    }

    /// <summary>Lays out the two grids of RGB tiles (HWC bytes, <paramref name="height"/>×<paramref name="width"/>) with
    /// their captions and an arrow between them (dispose the picture).</summary>
    public static Picture Render(IReadOnlyList<byte[]> seen, IReadOnlyList<byte[]> generated, int height, int width, Caption left, Caption right)
    {
        if (seen.Count == 0 || generated.Count == 0) throw new ArgumentException("both sides need at least one image");
        var scale = Math.Max(1, (MinTileSize + Math.Max(height, width) - 1) / Math.Max(height, width));
        var leftGrid = ImageSheet.Size(seen.Count, height, width, Columns, Gap, scale);
        var rightGrid = ImageSheet.Size(generated.Count, height, width, Columns, Gap, scale);
        var leftWidth = Math.Max(leftGrid.Width, CaptionWidth(left));
        var rightWidth = Math.Max(rightGrid.Width, CaptionWidth(right));
        var arrowWidth = (int)Math.Ceiling(Picture.TextWidth(Arrow, ArrowSize)) + 2 * Margin;
        var captionHeight = (int)Math.Ceiling(Picture.TextHeight(TitleSize) + Picture.TextHeight(NoteSize)) + 2 * LineGap;
        var gridTop = Margin + captionHeight;
        var picture = new Picture(Margin + leftWidth + arrowWidth + rightWidth + Margin,
            gridTop + Math.Max(leftGrid.Height, rightGrid.Height) + Margin, Paper);

        var rightLeft = Margin + leftWidth + arrowWidth;
        DrawCaption(picture, Margin, left);
        DrawCaption(picture, rightLeft, right);
        ImageSheet.Draw(picture, seen, height, width, Columns, Gap, Margin, gridTop, scale);
        ImageSheet.Draw(picture, generated, height, width, Columns, Gap, rightLeft, gridTop, scale);
        var arrowTop = gridTop + leftGrid.Height / 2f - Picture.TextHeight(ArrowSize) / 2;
        picture.Text(Arrow, Margin + leftWidth + Margin, arrowTop, ArrowSize, Ink);
        return picture;
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
            : corrupted.HasNoise ? $"noise up to σ {corrupted.MaxNoiseSigma.ToString("0.###", CultureInfo.InvariantCulture)}"
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

    private static int CaptionWidth(Caption caption) =>
        (int)Math.Ceiling(Math.Max(Picture.TextWidth(caption.Title, TitleSize), Picture.TextWidth(caption.Note, NoteSize))) + Gap;

    private static void DrawCaption(Picture picture, int left, Caption caption)
    {
        picture.Text(caption.Title, left + Gap, Margin, TitleSize, Ink);
        picture.Text(caption.Note, left + Gap, Margin + Picture.TextHeight(TitleSize) + LineGap, NoteSize, Muted);
    }
}
