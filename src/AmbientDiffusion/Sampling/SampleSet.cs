using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.Imaging;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Sampling;

/// <summary>
/// Generated samples on disk. <c>samples.safetensors</c> holds <c>samples</c> (uint8 [N, C, H, W]) and <c>seeds</c>
/// (int64 [N]) with the checkpoint, sampler and versions as metadata; <c>samples.npz</c> holds the same images as
/// <c>arr_0</c> (uint8 [N, H, W, C], the layout FID tools expect) and <c>seeds</c>; <c>grid.png</c> shows the first
/// images; optionally <c>png/&lt;seed&gt;.png</c> holds each one. Samples of class-conditional models also hold int64
/// <c>labels</c> [N] (in both files) and the class names as metadata, so a classifier can score them.
/// </summary>
public static class SampleSet
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "ambient/samples/1";

    /// <summary>Tensor name of the images.</summary>
    public const string SamplesKey = "samples";

    /// <summary>Tensor name of the seeds.</summary>
    public const string SeedsKey = "seeds";

    /// <summary>File names inside a samples folder.</summary>
    public const string TensorFile = "samples.safetensors", NumpyFile = "samples.npz", GridFile = "grid.png";

    /// <summary>Writes every output for <paramref name="samples"/> (uint8 [N, C, H, W]) into <paramref name="directory"/>.</summary>
    public static void Write(string directory, Tensor samples, IReadOnlyList<ulong> seeds, IReadOnlyDictionary<string, string> metadata, int gridCount = 64, bool singlePngs = false,
        SampleLabels? labels = null)
    {
        if (labels is not null && labels.Classes.Count != seeds.Count) throw new ArgumentException($"{labels.Classes.Count} labels for {seeds.Count} samples");
        if (samples.dtype != ScalarType.Byte || samples.dim() != 4 || samples.shape[1] is not (1 or 3))
            throw new ArgumentException($"samples must be uint8 [N, C, H, W] with C 1 or 3, got {samples.dtype} [{string.Join(", ", samples.shape)}]");
        if (samples.shape[0] != seeds.Count) throw new ArgumentException($"{samples.shape[0]} samples but {seeds.Count} seeds");
        Directory.CreateDirectory(directory);
        using var scope = torch.NewDisposeScope();
        var cpu = samples.to(Device.CPU).contiguous();
        var seedTensor = torch.tensor(seeds.Select(s => (long)s).ToArray());
        var meta = new Dictionary<string, string>(metadata) { ["format"] = FormatName, ["count"] = seeds.Count.ToString(CultureInfo.InvariantCulture) };
        var tensors = new List<KeyValuePair<string, Tensor>> { new(SamplesKey, cpu), new(SeedsKey, seedTensor) };
        var labelTensor = labels is null ? null : torch.tensor(labels.Classes.ToArray());
        if (labelTensor is not null) tensors.Add(new(DatasetLabels.LabelsKey, labelTensor));
        if (labels is { ClassNames.Count: > 0 }) meta[DatasetLabels.ClassNamesKey] = DatasetLabels.EncodeClassNames(labels.ClassNames);
        SafeTensors.Save(Path.Combine(directory, TensorFile), tensors, meta);

        var (n, c, h, w) = ((int)cpu.shape[0], (int)cpu.shape[1], (int)cpu.shape[2], (int)cpu.shape[3]);
        var arrays = new List<NpzWriter.Array>
        {
            new("arr_0", "|u1", [n, h, w, c], cpu.permute(0, 2, 3, 1).contiguous().data<byte>()),
            new(SeedsKey, "<i8", [n], seedTensor.data<long>().SelectMany(BitConverter.GetBytes).ToArray()),
        };
        if (labels is not null) arrays.Add(NpzWriter.Int64(DatasetLabels.LabelsKey, labels.Classes));
        AtomicFile.Write(Path.Combine(directory, NumpyFile), stream => NpzWriter.Write(stream, arrays));

        var bytes = cpu.data<byte>();
        var imageBytes = c * h * w;
        var shown = Math.Min(n, Math.Max(1, gridCount));
        var tiles = Enumerable.Range(0, shown).Select(i => ImageGrid.BytesToRgb(bytes.AsSpan(i * imageBytes, imageBytes), c, h, w)).ToList();
        AtomicFile.WriteAllBytes(Path.Combine(directory, GridFile), ImageSheet.Png(tiles, h, w, (int)Math.Ceiling(Math.Sqrt(shown)), gap: 2));

        if (singlePngs)
        {
            var folder = Path.Combine(directory, "png");
            Directory.CreateDirectory(folder);
            for (var i = 0; i < n; i++)
            {
                using var image = torch.tensor(bytes.AsSpan(i * imageBytes, imageBytes).ToArray(), [c, h, w]).permute(1, 2, 0).contiguous();
                ImageCodec.SavePng(Path.Combine(folder, seeds[i].ToString("D6", CultureInfo.InvariantCulture) + ".png"), image);
            }
        }
    }

    /// <summary>Opens a samples file and checks its format and tensors.</summary>
    public static SafeTensorsFile Open(string path)
    {
        var file = ArtifactFile.Open(path, FormatName, "a samples file", "make one with `ambient sample`");
        var info = file.Contains(SamplesKey) ? file.Info(SamplesKey) : null;
        if (info is null || info.Dtype != ScalarType.Byte || info.Shape.Length != 4)
        {
            file.Dispose();
            throw new InvalidDataException($"{path}: expected a uint8 [N, C, H, W] tensor '{SamplesKey}'");
        }
        return file;
    }

    /// <summary>Parses a seed list such as <c>0-999</c>, <c>1,5,7</c> or <c>0-9,100-109</c> (ranges inclusive, as in EDM).</summary>
    public static IReadOnlyList<ulong> ParseSeeds(string text)
    {
        var seeds = new List<ulong>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', 1);
            if (dash < 0)
            {
                seeds.Add(ParseSeed(part, text));
                continue;
            }
            var (first, last) = (ParseSeed(part[..dash], text), ParseSeed(part[(dash + 1)..], text));
            if (last < first) throw new ArgumentException($"--seeds {text}: range '{part}' runs backwards");
            if (last - first >= 10_000_000) throw new ArgumentException($"--seeds {text}: range '{part}' holds more than 10 million seeds");
            for (var s = first; ; s++)
            {
                seeds.Add(s);
                if (s == last) break;
            }
        }
        if (seeds.Count == 0) throw new ArgumentException($"--seeds '{text}': no seeds (expected e.g. 0-63 or 1,5,7)");
        if (seeds.Distinct().Count() != seeds.Count) throw new ArgumentException($"--seeds {text}: a seed appears twice");
        return seeds;
    }

    private static ulong ParseSeed(string value, string text) =>
        ulong.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : throw new ArgumentException($"--seeds {text}: '{value}' is not a non-negative integer (expected e.g. 0-63 or 1,5,7)");
}
