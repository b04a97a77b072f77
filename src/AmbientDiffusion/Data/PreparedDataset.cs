using System.Security.Cryptography;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Data;

/// <summary>
/// A prepared (clean) dataset file: safetensors with <c>images</c> (uint8 [N, C, R, R]), optionally
/// <c>heldout_images</c> (a disjoint split kept for memorization baselines), and its provenance as JSON metadata.
/// Labelled sources add int64 <c>labels</c> / <c>heldout_labels</c> and <c>class_names</c> metadata (see
/// <see cref="DatasetLabels"/>); the format name stays /1 because readers ignore keys they do not know.
/// Only <c>corrupt</c> and the memorization analyzer read it; training never does.
/// </summary>
public sealed class PreparedDataset : IDisposable
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "ambient/prepared-dataset/1";

    /// <summary>Tensor name of the training images.</summary>
    public const string ImagesKey = "images";

    /// <summary>Tensor name of the held-out images.</summary>
    public const string HeldOutKey = "heldout_images";

    private readonly SafeTensorsFile _file;

    private PreparedDataset(SafeTensorsFile file)
    {
        _file = file;
        var images = file.Info(ImagesKey);
        (Count, Channels, Height, Width) = CheckImages(file.Path, images);
        if (file.Contains(HeldOutKey))
        {
            var heldOut = file.Info(HeldOutKey);
            var (n, c, h, w) = CheckImages(file.Path, heldOut);
            if ((c, h, w) != (Channels, Height, Width))
                throw new InvalidDataException($"{file.Path}: held-out images are {c}x{h}x{w}, training images {Channels}x{Height}x{Width}");
            HeldOutCount = n;
        }
        ClassNames = DatasetLabels.ReadClassNames(file);
        if (file.Contains(DatasetLabels.LabelsKey))
        {
            Labels = DatasetLabels.ReadLabels(file, DatasetLabels.LabelsKey, Count, ClassNames);
            HeldOutLabels = HeldOutCount == 0 ? [] : DatasetLabels.ReadLabels(file, DatasetLabels.HeldOutLabelsKey, HeldOutCount, ClassNames);
        }
    }

    /// <summary>The class id of each training image, or null for an unlabelled dataset.</summary>
    public long[]? Labels { get; }

    /// <summary>The class id of each held-out image (empty when none are held out), or null for an unlabelled dataset.</summary>
    public long[]? HeldOutLabels { get; }

    /// <summary>The class names, indexed by class id, or null for an unlabelled dataset.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    private static (int, int, int, int) CheckImages(string path, SafeTensorInfo info)
    {
        if (info.Dtype != ScalarType.Byte || info.Shape.Length != 4 || info.Shape[1] is not (1 or 3))
            throw new InvalidDataException($"{path}: '{info.Name}' must be uint8 [N, C, H, W] with C 1 or 3, got {info.Dtype} [{string.Join(", ", info.Shape)}]");
        return ((int)info.Shape[0], (int)info.Shape[1], (int)info.Shape[2], (int)info.Shape[3]);
    }

    /// <summary>Opens and validates a prepared dataset.</summary>
    public static PreparedDataset Open(string path)
    {
        var file = ArtifactFile.Open(path, FormatName, "a prepared dataset", "make one with `ambient prepare`");
        try
        {
            if (!file.Contains(ImagesKey)) throw new InvalidDataException($"{path}: no '{ImagesKey}' tensor");
            return new PreparedDataset(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The file.</summary>
    public string Path => _file.Path;

    /// <summary>Training images.</summary>
    public int Count { get; }

    /// <summary>Held-out images (0 when there are none).</summary>
    public int HeldOutCount { get; }

    /// <summary>Colour channels (1 or 3).</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Bytes of one image.</summary>
    public int ImageBytes => Channels * Height * Width;

    /// <summary>The provenance JSON written by <c>prepare</c>.</summary>
    public string Provenance => _file.Metadata.TryGetValue("provenance", out var p) ? p : "{}";

    /// <summary>Copies training image <paramref name="index"/> (CHW uint8) into <paramref name="destination"/>.</summary>
    public void ReadImage(int index, Span<byte> destination) => Read(ImagesKey, Count, index, destination);

    /// <summary>Copies held-out image <paramref name="index"/> (CHW uint8) into <paramref name="destination"/>.</summary>
    public void ReadHeldOut(int index, Span<byte> destination) => Read(HeldOutKey, HeldOutCount, index, destination);

    private void Read(string key, int count, int index, Span<byte> destination)
    {
        if ((uint)index >= (uint)count) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Path}: {count} images in '{key}'");
        _file.ReadBytes(key, (long)index * ImageBytes, destination[..ImageBytes]);
    }

    /// <summary>All training images as a uint8 [N, C, H, W] tensor (in the current scope).</summary>
    public Tensor Images(Device? device = null) => _file.GetTensor(ImagesKey, device);

    /// <summary>All held-out images, or null when there are none.</summary>
    public Tensor? HeldOutImages(Device? device = null) => HeldOutCount > 0 ? _file.GetTensor(HeldOutKey, device) : null;

    /// <summary>SHA-256 of the whole file, hex: identifies the source of a corrupted dataset.</summary>
    public string FileSha256()
    {
        using var stream = File.OpenRead(Path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Writes a prepared dataset atomically; <paramref name="labels"/> (null for an unlabelled source) adds the label tensors.</summary>
    public static void Write(string path, Tensor images, Tensor? heldOut, object provenance, DatasetLabels? labels = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>> { new(ImagesKey, images) };
        if (heldOut is not null) tensors.Add(new(HeldOutKey, heldOut));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["provenance"] = JsonSerializer.Serialize(provenance, ProvenanceJson.Options),
        };
        using var scope = torch.NewDisposeScope();
        if (labels is not null)
        {
            tensors.Add(new(DatasetLabels.LabelsKey, torch.tensor(labels.Train, [labels.Train.LongLength])));
            if (heldOut is not null) tensors.Add(new(DatasetLabels.HeldOutLabelsKey, torch.tensor(labels.HeldOut, [labels.HeldOut.LongLength])));
            metadata[DatasetLabels.ClassNamesKey] = DatasetLabels.EncodeClassNames(labels.ClassNames);
        }
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}

/// <summary>Serializer settings for provenance records: snake_case, compact, stable.</summary>
internal static class ProvenanceJson
{
    public static readonly JsonSerializerOptions Options = Common.FiniteJson.SnakeCase(omitNulls: true);
}
