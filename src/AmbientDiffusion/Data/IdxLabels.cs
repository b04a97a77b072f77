using System.Buffers.Binary;
using System.IO.Compression;

namespace AmbientDiffusion.Data;

/// <summary>
/// An IDX label file (magic 0x00000801: unsigned bytes, 1 dimension), raw or gzip-compressed, found beside an image
/// file by the MNIST naming convention (<c>X-images-idx3-ubyte[.gz]</c> → <c>X-labels-idx1-ubyte[.gz]</c>).
/// </summary>
public static class IdxLabels
{
    /// <summary>The label file beside <paramref name="imagePath"/>, or null when the name does not follow the convention or the file is absent.</summary>
    public static string? Beside(string imagePath)
    {
        var name = Path.GetFileName(imagePath);
        const string images = "-images-idx3-ubyte";
        if (!name.Contains(images, StringComparison.Ordinal)) return null;
        var candidate = Path.Combine(Path.GetDirectoryName(imagePath) ?? ".", name.Replace(images, "-labels-idx1-ubyte", StringComparison.Ordinal));
        return File.Exists(candidate) ? candidate : null;
    }

    /// <summary>
    /// Reads <paramref name="labelPath"/>, which must hold <paramref name="count"/> labels. The class names are
    /// Fashion-MNIST's when the files live in a folder whose path names Fashion-MNIST, else the label values "0", "1", ...
    /// (at least ten).
    /// </summary>
    public static SourceLabels Read(string labelPath, int count)
    {
        using var file = File.OpenRead(labelPath);
        Span<byte> magic = stackalloc byte[2];
        var gzip = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        var header = new byte[8];
        if (ReadFully(stream, header, labelPath) < 8) throw new InvalidDataException($"{labelPath}: IDX label header is shorter than 8 bytes");
        var code = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (code != 0x00000801)
            throw new InvalidDataException($"{labelPath}: IDX magic is 0x{code:X8}, expected 0x00000801 (unsigned-byte labels with 1 dimension)");
        var declared = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4));
        if (declared != (uint)count)
            throw new InvalidDataException($"{labelPath}: {declared} labels, the image file beside it has {count} images");
        var bytes = new byte[count];
        var read = ReadFully(stream, bytes, labelPath);
        if (read < count) throw new InvalidDataException($"{labelPath}: IDX payload has {read} labels, the header declares {count}");
        var ids = bytes.Select(b => (int)b).ToArray();
        var fashion = labelPath.Contains("fashion", StringComparison.OrdinalIgnoreCase);
        IReadOnlyList<string> names = fashion
            ? SourceLabels.FashionMnistClassNames
            : Enumerable.Range(0, Math.Max(10, ids.DefaultIfEmpty(0).Max() + 1)).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new SourceLabels(ids, names).Validated(labelPath);
    }

    private static int ReadFully(Stream stream, Span<byte> buffer, string path)
    {
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var n = stream.Read(buffer[total..]);
                if (n == 0) break;
                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: corrupt gzip stream: {e.Message}", e);
        }
        return total;
    }
}
