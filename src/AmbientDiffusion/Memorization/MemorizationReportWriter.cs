using System.Text;
using System.Text.Json;
using AmbientDiffusion.Data;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.Imaging;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// Writes a report directory: <c>report.json</c> (every number), <c>report.html</c> (self-contained) and
/// <c>neighbors.png</c> (each row a sample, then its nearest training images). Each file is written atomically, and
/// the same report gives the same bytes: no timestamps, invariant formatting, "\n" line ends.
/// </summary>
public static class MemorizationReportWriter
{
    /// <summary>File name of the JSON report.</summary>
    public const string JsonFile = "report.json";

    /// <summary>File name of the HTML report.</summary>
    public const string HtmlFile = "report.html";

    /// <summary>File name of the neighbour grid.</summary>
    public const string NeighborsFile = "neighbors.png";

    /// <summary>Serializer settings of report.json (snake_case, indented, nulls left out).</summary>
    public static readonly JsonSerializerOptions JsonOptions = Common.FiniteJson.SnakeCase(indented: true, omitNulls: true);

    /// <summary>Writes the three files into <paramref name="directory"/> (created if needed).</summary>
    public static void Write(MemorizationReport report, ImageSet samples, ImageSet train, string directory, IReadOnlyList<string>? sections = null)
    {
        Directory.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(report, JsonOptions) + "\n";
        var thumbnails = new Thumbnails(samples, train);
        var html = MemorizationHtml.Render(report, json, thumbnails, sections ?? []);
        AtomicFile.WriteAllBytes(Path.Combine(directory, JsonFile), Encoding.UTF8.GetBytes(json));
        AtomicFile.WriteAllBytes(Path.Combine(directory, HtmlFile), Encoding.UTF8.GetBytes(html));
        if (report.Worst.Count > 0) AtomicFile.WriteAllBytes(Path.Combine(directory, NeighborsFile), NeighborGrid(report, thumbnails));
    }

    /// <summary>PNG grid: one row per worst sample, the sample then its nearest training images.</summary>
    internal static byte[] NeighborGrid(MemorizationReport report, Thumbnails thumbnails)
    {
        var columns = 1 + MemorizationAnalyzer.ShownNeighbors;
        var cells = new List<byte[]>();
        foreach (var worst in report.Worst)
        {
            cells.Add(thumbnails.Rgb(thumbnails.Samples, worst.Index));
            for (var j = 0; j < MemorizationAnalyzer.ShownNeighbors; j++)
                cells.Add(j < worst.Neighbors.Count ? thumbnails.Rgb(thumbnails.Train, worst.Neighbors[j].Index) : new byte[thumbnails.Height * thumbnails.Width * 3]);
        }
        return ImageSheet.Png(cells, thumbnails.Height, thumbnails.Width, columns, gap: 2);
    }
}

/// <summary>RGB thumbnails of dataset images, upscaled by an integer factor (nearest neighbour) to at least 64 pixels.</summary>
internal sealed class Thumbnails(ImageSet samples, ImageSet train)
{
    private readonly int _scale = (int)Math.Max(1, Math.Ceiling(64.0 / Math.Max(1, Math.Min(train.ImageShape.H, train.ImageShape.W))));

    public ImageSet Samples { get; } = samples;

    public ImageSet Train { get; } = train;

    public int Height => (int)Train.ImageShape.H * _scale;

    public int Width => (int)Train.ImageShape.W * _scale;

    /// <summary>Image <paramref name="index"/> of <paramref name="set"/> as HWC RGB bytes at thumbnail size.</summary>
    public byte[] Rgb(ImageSet set, int index)
    {
        var (c, h, w) = set.ImageShape;
        byte[] chw;
        using (var scope = torch.NewDisposeScope()) chw = set.Images.select(0, index).contiguous().data<byte>();
        var rgb = new byte[Height * Width * 3];
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
                for (var k = 0; k < 3; k++)
                    rgb[(y * Width + x) * 3 + k] = chw[(c == 1 ? 0 : k) * h * w + y / _scale * w + x / _scale];
        return rgb;
    }

    /// <summary>The thumbnail as a PNG data URI.</summary>
    public string DataUri(ImageSet set, int index)
    {
        var png = Png.Encode(Rgb(set, index), Height, Width);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
