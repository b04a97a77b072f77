using System.Buffers.Binary;
using System.IO.Compression;

namespace AmbientDiffusion.Data;

/// <summary>
/// An IDX image file (MNIST, Fashion-MNIST), raw or gzip-compressed: magic 0x00000803 (unsigned bytes, 3 dims),
/// big-endian sizes N, rows, cols, then N*rows*cols pixels. Debian's dataset-fashion-mnist package installs
/// Fashion-MNIST under <see cref="FashionMnistDirectory"/>.
/// </summary>
public sealed class IdxSource : ImageSource
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    private readonly byte[] _pixels;

    /// <summary>Reads and validates the whole file.</summary>
    public IdxSource(string path)
    {
        FilePath = Path.GetFullPath(path);
        if (!File.Exists(FilePath)) throw new FileNotFoundException($"{path}: no such file", path);
        using var file = File.OpenRead(FilePath);
        Span<byte> magic = stackalloc byte[2];
        var gzip = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        Span<byte> header = stackalloc byte[16];
        if (ReadFully(stream, header) < 16) throw new InvalidDataException($"{path}: IDX header is shorter than 16 bytes");
        var code = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (code != 0x00000803)
            throw new InvalidDataException($"{path}: IDX magic is 0x{code:X8}, expected 0x00000803 (unsigned-byte images with 3 dimensions)");
        var count = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        Rows = (int)BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        Columns = (int)BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
        if (count == 0 || Rows <= 0 || Columns <= 0 || Rows > 4096 || Columns > 4096 || count > int.MaxValue)
            throw new InvalidDataException($"{path}: IDX sizes {count} x {Rows} x {Columns} are not a plausible image set");
        var expected = (long)count * Rows * Columns;
        if (expected > Array.MaxLength) throw new InvalidDataException($"{path}: {expected} pixels exceed what one IDX file can hold here");
        _pixels = new byte[expected];
        var read = ReadFully(stream, _pixels);
        if (read < expected)
            throw new InvalidDataException($"{path}: IDX payload has {read} bytes, the header declares {count} x {Rows} x {Columns} = {expected}");
        Count = (int)count;
        if (IdxLabels.Beside(FilePath) is { } labelPath) Labels = IdxLabels.Read(labelPath, Count);
    }

    /// <summary>The labels of the <c>*-labels-idx1-ubyte</c> file beside the images, or null when there is none.</summary>
    public override SourceLabels? Labels { get; }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            int n;
            try
            {
                n = stream.Read(buffer[total..]);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"corrupt gzip stream: {e.Message}", e);
            }
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>The Fashion-MNIST training (60000) or test (10000) images installed by Debian.</summary>
    public static IdxSource FashionMnist(bool train = true)
    {
        var path = Path.Combine(FashionMnistDirectory, train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found: install Fashion-MNIST with `apt-get install dataset-fashion-mnist` (or run `bash .ci/setup`)", path);
        return new IdxSource(path);
    }

    /// <summary>The IDX file.</summary>
    public string FilePath { get; }

    /// <summary>Image height.</summary>
    public int Rows { get; }

    /// <summary>Image width.</summary>
    public int Columns { get; }

    /// <inheritdoc />
    public override int Count { get; }

    /// <inheritdoc />
    public override string Description => $"IDX {FilePath} ({Count} images of {Rows}x{Columns})";

    /// <inheritdoc />
    public override string Kind => "idx";

    /// <inheritdoc />
    public override string ItemName(int index) => $"{FilePath}[{index}]";

    /// <inheritdoc />
    public override byte[] ReadRaw(int index) => _pixels.AsSpan(index * Rows * Columns, Rows * Columns).ToArray();

    /// <inheritdoc />
    public override DecodedImage Decode(int index, byte[] raw, int channels)
    {
        if (channels == 1) return new DecodedImage(raw, Rows, Columns, 1);
        var rgb = new byte[raw.Length * channels];
        for (var i = 0; i < raw.Length; i++)
            for (var c = 0; c < channels; c++) rgb[i * channels + c] = raw[i];
        return new DecodedImage(rgb, Rows, Columns, channels);
    }
}
