using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace AmbientDiffusion.Sampling;

/// <summary>
/// Reads NumPy <c>.npz</c> archives (a zip of <c>.npy</c> arrays, entries stored or deflated, as <c>np.savez</c> and
/// <c>np.savez_compressed</c> write them; .npy format versions 1, 2 and 3). Only C-order little-endian arrays of the
/// dtypes in <see cref="ItemSizes"/> are read; anything else is an error naming the file, the entry and what was found.
/// </summary>
public static partial class NpzReader
{
    /// <summary>One array: its name (the entry without .npy), dtype descriptor, shape and raw C-order bytes.</summary>
    public sealed record Array(string Name, string Dtype, long[] Shape, byte[] Data)
    {
        /// <summary>Number of elements.</summary>
        public long Count => Shape.Aggregate(1L, (a, b) => a * b);

        /// <summary>The elements as int64; only for <c>&lt;i8</c> arrays.</summary>
        public long[] ToInt64(string where)
        {
            if (Dtype != "<i8") throw new InvalidDataException($"{where}: '{Name}' has dtype {Dtype}, expected int64 (<i8)");
            return MemoryMarshal.Cast<byte, long>(Data).ToArray();
        }
    }

    /// <summary>The dtypes read, with their item sizes in bytes.</summary>
    public static IReadOnlyDictionary<string, int> ItemSizes { get; } = new Dictionary<string, int>
    {
        ["|u1"] = 1, ["|b1"] = 1, ["|i1"] = 1, ["<i4"] = 4, ["<i8"] = 8, ["<f4"] = 4, ["<f8"] = 8,
    };

    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Every array of the archive at <paramref name="path"/>, by name.</summary>
    public static IReadOnlyDictionary<string, Array> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        ZipArchive zip;
        var stream = File.OpenRead(path);
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            throw new InvalidDataException($"{path}: not an .npz (zip) archive: {e.Message}", e);
        }
        using (zip)
        {
            var arrays = new Dictionary<string, Array>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                    throw new InvalidDataException($"{path}: entry '{entry.FullName}' is not a .npy array");
                var name = entry.FullName[..^4];
                byte[] bytes;
                try
                {
                    using var input = entry.Open();
                    using var buffer = new MemoryStream();
                    input.CopyTo(buffer);
                    bytes = buffer.ToArray();
                }
                catch (Exception e) when (e is InvalidDataException or NotSupportedException)
                {
                    throw new InvalidDataException($"{path}: entry '{entry.FullName}' cannot be read (only stored and deflated entries are supported): {e.Message}", e);
                }
                arrays[name] = ParseNpy(bytes, $"{path}: '{entry.FullName}'", name);
            }
            return arrays;
        }
    }

    /// <summary>Parses one .npy file's bytes; <paramref name="where"/> names it in errors.</summary>
    public static Array ParseNpy(byte[] bytes, string where, string name)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw new InvalidDataException($"{where}: no .npy magic (\\x93NUMPY)");
        var major = bytes[6];
        var (lengthSize, encoding) = major switch
        {
            1 => (2, Encoding.Latin1),
            2 => (4, Encoding.Latin1),
            3 => (4, Encoding.UTF8),
            _ => throw new InvalidDataException($"{where}: .npy format version {major}.{bytes[7]}, expected 1.0, 2.0 or 3.0"),
        };
        if (bytes.Length < 8 + lengthSize) throw new InvalidDataException($"{where}: truncated .npy header");
        var headerLength = lengthSize == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (long)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var dataStart = 8 + lengthSize + headerLength;
        if (dataStart > bytes.Length) throw new InvalidDataException($"{where}: .npy header of {headerLength} bytes runs past the entry's end");
        var header = encoding.GetString(bytes, 8 + lengthSize, (int)headerLength);

        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new InvalidDataException($"{where}: .npy header '{header.Trim()}' lacks 'descr', 'fortran_order' or 'shape'");
        var dtype = descr.Groups[1].Value;
        if (dtype == "=u1" || dtype == "<u1") dtype = "|u1";
        if (!ItemSizes.TryGetValue(dtype, out var itemSize))
            throw new InvalidDataException($"{where}: dtype '{dtype}' is not supported (expected one of {string.Join(", ", ItemSizes.Keys)}; big-endian and object arrays are not)");
        if (fortran.Groups[1].Value == "True") throw new InvalidDataException($"{where}: Fortran-order arrays are not supported (save a C-order array, e.g. np.ascontiguousarray)");
        var shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : throw new InvalidDataException($"{where}: shape entry '{s}' is not a size"))
            .ToArray();
        var expected = shape.Aggregate(1L, (a, b) => a * b) * itemSize;
        if (bytes.Length - dataStart != expected)
            throw new InvalidDataException($"{where}: {bytes.Length - dataStart} data bytes, shape ({string.Join(", ", shape)}) of {dtype} needs {expected}");
        return new Array(name, dtype, shape, bytes[(int)dataStart..]);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
