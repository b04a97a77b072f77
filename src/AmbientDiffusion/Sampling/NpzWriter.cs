using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace AmbientDiffusion.Sampling;

/// <summary>
/// Writes NumPy <c>.npz</c> archives (a zip of <c>.npy</c> arrays, format version 1.0) so external FID/precision tools
/// can read samples directly. Entries are stored uncompressed with a fixed timestamp: the same arrays give the same bytes.
/// </summary>
public static class NpzWriter
{
    /// <summary>One array: its name (without .npy), NumPy dtype descriptor (e.g. <c>|u1</c>, <c>&lt;i8</c>), shape and raw C-order bytes.</summary>
    public sealed record Array(string Name, string Dtype, long[] Shape, byte[] Data);

    /// <summary>An int64 [N] array (little-endian, as NumPy's <c>&lt;i8</c>).</summary>
    public static Array Int64(string name, IReadOnlyList<long> values)
    {
        var data = new byte[values.Count * sizeof(long)];
        for (var i = 0; i < values.Count; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(i * sizeof(long)), values[i]);
        return new Array(name, "<i8", [values.Count], data);
    }

    private static readonly DateTimeOffset FixedTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Writes <paramref name="arrays"/> to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IEnumerable<Array> arrays)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var array in arrays)
        {
            var entry = zip.CreateEntry(array.Name + ".npy", CompressionLevel.NoCompression);
            entry.LastWriteTime = FixedTime;
            using var output = entry.Open();
            var header = Header(array);
            output.Write(header);
            output.Write(array.Data);
        }
    }

    /// <summary>The .npy header: magic, version 1.0, little-endian header length, a Python dict literal padded so the
    /// data starts at a multiple of 64 bytes.</summary>
    private static byte[] Header(Array array)
    {
        var count = array.Shape.Aggregate(1L, (a, b) => a * b);
        var itemSize = int.Parse(array.Dtype[2..], CultureInfo.InvariantCulture);
        if (count * itemSize != array.Data.Length)
            throw new ArgumentException($"npz array '{array.Name}': {array.Data.Length} bytes do not match shape [{string.Join(", ", array.Shape)}] of {array.Dtype}");
        var shape = array.Shape.Length == 1 ? $"({array.Shape[0]},)" : "(" + string.Join(", ", array.Shape) + ")";
        var dict = $"{{'descr': '{array.Dtype}', 'fortran_order': False, 'shape': {shape}, }}";
        var unpadded = 10 + dict.Length + 1;
        var padded = (unpadded + 63) / 64 * 64;
        var text = dict + new string(' ', padded - unpadded) + "\n";
        var header = new byte[10 + text.Length];
        header[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(header, 1);
        header[6] = 1;
        header[7] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8, 2), (ushort)text.Length);
        Encoding.ASCII.GetBytes(text).CopyTo(header, 10);
        return header;
    }
}
