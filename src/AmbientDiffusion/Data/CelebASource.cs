using System.Globalization;

namespace AmbientDiffusion.Data;

/// <summary>
/// CelebA in its official layout: <c>img_align_celeba/*.jpg</c> and <c>list_eval_partition.txt</c>, whose lines
/// "000001.jpg 0" give each image's split (0 train, 1 validation, 2 test). Images are 178x218 JPEGs.
/// </summary>
public sealed class CelebASource : ImageSource
{
    /// <summary>The partition file's name.</summary>
    public const string PartitionFile = "list_eval_partition.txt";

    /// <summary>The image folder's name.</summary>
    public const string ImageFolder = "img_align_celeba";

    private static readonly string[] PartitionNames = ["train", "validation", "test"];
    private readonly List<(string file, int partition)> _items;

    /// <summary>Reads the partition list; <paramref name="partition"/> ("train", "validation", "test" or null for all)
    /// keeps one split.</summary>
    public CelebASource(string root, string? partition = null)
    {
        Root = Path.GetFullPath(root);
        if (!IsCelebA(Root))
            throw new InvalidDataException($"{root}: not a CelebA folder (expected {ImageFolder}/ and {PartitionFile})");
        int? wanted = partition is null ? null : Array.IndexOf(PartitionNames, partition.ToLowerInvariant()) is var p and >= 0 ? p
            : throw new ArgumentException($"partition '{partition}': expected train, validation or test");
        _items = new List<(string, int)>();
        var listPath = Path.Combine(Root, PartitionFile);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(listPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var split) || split is < 0 or > 2 || !IsImageFile(parts[0]))
                throw new InvalidDataException($"{listPath}:{lineNumber}: expected '<image>.jpg <0|1|2>', got '{line.Trim()}'");
            if (wanted is null || wanted == split) _items.Add((parts[0], split));
        }
        if (_items.Count == 0) throw new InvalidDataException($"{listPath}: no images{(partition is null ? "" : $" in partition '{partition}'")}");
        Partitioned = partition;
    }

    /// <summary>Whether <paramref name="root"/> has the official CelebA layout.</summary>
    public static bool IsCelebA(string root) =>
        Directory.Exists(Path.Combine(root, ImageFolder)) && File.Exists(Path.Combine(root, PartitionFile));

    /// <summary>The dataset folder.</summary>
    public string Root { get; }

    /// <summary>The split kept, or null for all.</summary>
    public string? Partitioned { get; }

    /// <inheritdoc />
    public override int Count => _items.Count;

    /// <inheritdoc />
    public override string Description => $"CelebA {Root} ({Partitioned ?? "all"} partition, {_items.Count} images)";

    /// <inheritdoc />
    public override string Kind => "celeba";

    /// <inheritdoc />
    public override string ItemName(int index) => Path.Combine(Root, ImageFolder, _items[index].file);

    /// <inheritdoc />
    public override byte[] ReadRaw(int index)
    {
        var path = ItemName(index);
        return File.Exists(path) ? File.ReadAllBytes(path) : throw new InvalidDataException($"{path}: listed in {PartitionFile} but missing");
    }

    /// <summary>Class labels of the kept images from <see cref="CelebAAttributes.AttributeFile"/> and the named attributes.</summary>
    public SourceLabels AttributeLabels(IReadOnlyList<string> attributes) =>
        CelebAAttributes.Read(Root, _items.Select(i => i.file).ToList(), attributes);

    /// <inheritdoc />
    public override string? Partition(int index) => PartitionNames[_items[index].partition];
}
