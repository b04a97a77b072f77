using System.Runtime.InteropServices;
using System.Text.Json;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Data;

/// <summary>
/// Class labels as a prepared dataset stores them: int64 <c>labels</c> [N] and <c>heldout_labels</c> [M] tensors and
/// the <c>class_names</c> metadata key (a JSON list, indexed by class id). Written only for labelled sources, so
/// unlabelled datasets stay byte-identical to those of earlier versions; corrupted datasets carry <c>labels</c> and
/// <c>class_names</c> the same way (labels are never corrupted).
/// </summary>
/// <param name="Train">The class id of each training image.</param>
/// <param name="HeldOut">The class id of each held-out image.</param>
/// <param name="ClassNames">The class names, indexed by id.</param>
public sealed record DatasetLabels(long[] Train, long[] HeldOut, IReadOnlyList<string> ClassNames)
{
    /// <summary>Tensor name of the training labels.</summary>
    public const string LabelsKey = "labels";

    /// <summary>Tensor name of the held-out labels.</summary>
    public const string HeldOutLabelsKey = "heldout_labels";

    /// <summary>Metadata key of the class names (JSON list).</summary>
    public const string ClassNamesKey = "class_names";

    /// <summary>The class names as metadata JSON.</summary>
    public static string EncodeClassNames(IReadOnlyList<string> names) => JsonSerializer.Serialize(names);

    /// <summary>The class names of <paramref name="file"/>, or null when it has none; malformed JSON names the file.</summary>
    public static IReadOnlyList<string>? ReadClassNames(SafeTensorsFile file)
    {
        if (!file.Metadata.TryGetValue(ClassNamesKey, out var json)) return null;
        string[]? names;
        try
        {
            names = JsonSerializer.Deserialize<string[]>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file.Path}: metadata '{ClassNamesKey}' is not a JSON list of names: {e.Message}");
        }
        return names is { Length: > 0 } ? names : throw new InvalidDataException($"{file.Path}: metadata '{ClassNamesKey}' is empty");
    }

    /// <summary>Reads int64 tensor <paramref name="key"/> of <paramref name="count"/> labels and checks every id
    /// against <paramref name="classNames"/>, naming the file, the key and the bad value.</summary>
    public static long[] ReadLabels(SafeTensorsFile file, string key, int count, IReadOnlyList<string>? classNames)
    {
        if (classNames is null) throw new InvalidDataException($"{file.Path}: '{key}' tensor without '{ClassNamesKey}' metadata");
        var info = file.Info(key);
        if (info.Dtype != ScalarType.Int64 || info.Shape.Length != 1 || info.Shape[0] != count)
            throw new InvalidDataException($"{file.Path}: '{key}' must be int64 [{count}], got {info.Dtype} [{string.Join(", ", info.Shape)}]");
        var labels = new long[count];
        file.ReadBytes(key, 0, MemoryMarshal.AsBytes(labels.AsSpan()));
        for (var i = 0; i < count; i++)
            if ((ulong)labels[i] >= (ulong)classNames.Count)
                throw new InvalidDataException($"{file.Path}: {key}[{i}] = {labels[i]} is out of range (expected 0 to {classNames.Count - 1}, one per class name)");
        return labels;
    }
}
