namespace AmbientDiffusion.Data;

/// <summary>Every JPEG, PNG and BMP file under a folder (recursively), in ordinal order of relative path.
/// CelebA-HQ and most "folder of faces" datasets are read this way.</summary>
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
    }

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
