using AmbientDiffusion.Torch.Imaging;

namespace AmbientDiffusion.Data;

/// <summary>A decoded image: 8-bit pixels in row-major HWC order.</summary>
public sealed record DecodedImage(byte[] Pixels, int Height, int Width, int Channels);

/// <summary>
/// An ordered collection of source images (a folder, CelebA, an IDX file). Items are read as raw bytes (which are
/// hashed into the dataset's provenance) and decoded separately, so decoding can run in parallel.
/// </summary>
public abstract class ImageSource
{
    /// <summary>Number of items.</summary>
    public abstract int Count { get; }

    /// <summary>What this source is, for provenance ("image folder /data/faces").</summary>
    public abstract string Description { get; }

    /// <summary>The kind of source: "folder", "celeba", "idx".</summary>
    public abstract string Kind { get; }

    /// <summary>How an item is named in errors and provenance (a path relative to the root, or "file[index]").</summary>
    public abstract string ItemName(int index);

    /// <summary>The item's raw bytes (a file's content, or an IDX record).</summary>
    public abstract byte[] ReadRaw(int index);

    /// <summary>Decodes raw bytes from <see cref="ReadRaw"/> with <paramref name="channels"/> (1 or 3) channels.</summary>
    public virtual DecodedImage Decode(int index, byte[] raw, int channels)
    {
        var image = ImageCodec.DecodePixels(raw, ItemName(index), channels);
        return new DecodedImage(image.Pixels, image.Height, image.Width, image.Channels);
    }

    /// <summary>The official split an item belongs to ("train", "validation", "test"), or null when the source has none.</summary>
    public virtual string? Partition(int index) => null;

    /// <summary>The class of every item, or null when the source has no labels.</summary>
    public virtual SourceLabels? Labels => null;

    /// <summary>Lists image files (JPEG, PNG, WebP, GIF, BMP) under <paramref name="root"/>, recursively, sorted by relative path.</summary>
    internal static List<string> ListImages(string root) =>
        Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = FileAttributes.Hidden })
            .Where(IsImageFile)
            .Select(f => Path.GetRelativePath(root, f))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();

    internal static bool IsImageFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg" or ".png" or ".webp" or ".gif" or ".bmp";
}
