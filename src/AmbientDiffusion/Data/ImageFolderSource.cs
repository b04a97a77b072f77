namespace AmbientDiffusion.Data;

/// <summary>Every JPEG, PNG and BMP file under a folder (recursively), in ordinal order of relative path.
/// CelebA-HQ and most "folder of faces" datasets are read this way. When every image lies under a sub-folder and there
/// are at least two sub-folders, the folder is a labelled ImageFolder: the class is the first sub-folder's name, decoded
/// by <see cref="ClassFolderNames"/> (so <c>T-shirt%2Ftop</c>, as <c>ambient synthesize</c> writes it, is the class
/// <c>T-shirt/top</c>), class ids in ordinal order of names (as torchvision's ImageFolder).</summary>
public sealed class ImageFolderSource : ImageSource
{
    private readonly List<string> _files;

    /// <summary>Lists the folder; an empty folder is an error.</summary>
    public ImageFolderSource(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such directory");
        Root = Path.GetFullPath(root);
        _files = ListImages(Root);
        if (_files.Count == 0) throw new InvalidDataException($"{root}: no JPEG, PNG or BMP images found (searched recursively)");
        Labels = ClassFolders(root, _files);
    }

    /// <summary>Labels from class sub-folders, or null for a flat (or single-folder) layout.</summary>
    private static SourceLabels? ClassFolders(string root, List<string> files)
    {
        var folderOf = files.Select(f => f.Split(Path.DirectorySeparatorChar, 2) is [var folder, _] ? folder : null).ToArray();
        if (folderOf.Any(c => c is null)) return null;
        var folders = folderOf.Distinct(StringComparer.Ordinal).ToArray();
        if (folders.Length < 2) return null;
        var nameOf = folders.ToDictionary(f => f!, f => ClassFolderNames.Decode(f!), StringComparer.Ordinal);
        // Two spellings of one name (T-shirt%2Ftop beside a hand-made folder that decodes alike) must not merge silently.
        var merged = nameOf.GroupBy(p => p.Value, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (merged is not null)
            throw new InvalidDataException($"{root}: the class folders {string.Join(" and ", merged.Select(p => p.Key))} both stand for the class '{merged.Key}'; keep one (folder names are percent-decoded)");
        var names = nameOf.Values.Order(StringComparer.Ordinal).ToArray();
        var ids = folderOf.Select(f => Array.BinarySearch(names, nameOf[f!], StringComparer.Ordinal)).ToArray();
        return new SourceLabels(ids, names);
    }

    /// <inheritdoc />
    public override SourceLabels? Labels { get; }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public override int Count => _files.Count;

    /// <inheritdoc />
    public override string Description => $"image folder {Root} ({_files.Count} files)";

    /// <inheritdoc />
    public override string Kind => "folder";

    /// <inheritdoc />
    public override string ItemName(int index) => Path.Combine(Root, _files[index]);

    /// <inheritdoc />
    public override byte[] ReadRaw(int index) => File.ReadAllBytes(ItemName(index));
}
