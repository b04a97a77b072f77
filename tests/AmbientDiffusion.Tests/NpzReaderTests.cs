using System.IO.Compression;
using System.Text;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Tests;

public class NpzReaderTests
{
    [Fact]
    public void Reads_back_what_NpzWriter_writes()
    {
        using var dir = new TempDir();
        var path = dir.File("a.npz");
        var pixels = Enumerable.Range(0, 2 * 3 * 4 * 1).Select(i => (byte)(i * 7)).ToArray();
        var labels = new long[] { 5, -1 };
        using (var file = File.Create(path))
            NpzWriter.Write(file, [new NpzWriter.Array("images", "|u1", [2, 3, 4, 1], pixels), new NpzWriter.Array("labels", "<i8", [2], labels.SelectMany(BitConverter.GetBytes).ToArray())]);
        var arrays = NpzReader.Read(path);
        Assert.Equal(["images", "labels"], arrays.Keys.Order());
        Assert.Equal([2L, 3, 4, 1], arrays["images"].Shape);
        Assert.Equal(pixels, arrays["images"].Data);
        Assert.Equal(labels, arrays["labels"].ToInt64(path));
    }

    [Fact]
    public void Reads_deflated_entries_and_version_2_headers()
    {
        using var dir = new TempDir();
        var path = dir.File("compressed.npz");
        var values = new long[] { 1, 2, 3, long.MaxValue };
        WriteZip(path, CompressionLevel.Optimal, ("groups.npy", Npy(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", values.SelectMany(BitConverter.GetBytes).ToArray())),
            ("scalar.npy", Npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }", [42])));
        var arrays = NpzReader.Read(path);
        Assert.Equal(values, arrays["groups"].ToInt64(path));
        Assert.Empty(arrays["scalar"].Shape);
        Assert.Equal([(byte)42], arrays["scalar"].Data);
    }

    [Theory]
    [InlineData("{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", 8, "dtype '>i8' is not supported")]
    [InlineData("{'descr': '<i8', 'fortran_order': True, 'shape': (1,), }", 8, "Fortran-order")]
    [InlineData("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 8, "8 data bytes, shape (2) of <i8 needs 16")]
    [InlineData("{'descr': '<i8', 'shape': (1,), }", 8, "lacks 'descr', 'fortran_order' or 'shape'")]
    public void Bad_arrays_are_errors_naming_the_file_entry_and_problem(string header, int dataBytes, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.npz");
        WriteZip(path, CompressionLevel.NoCompression, ("x.npy", Npy(1, header, new byte[dataBytes])));
        var e = Assert.Throws<InvalidDataException>(() => NpzReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'x.npy'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_missing_file_or_a_non_zip_is_a_clear_error()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => NpzReader.Read(dir.File("none.npz")));
        File.WriteAllText(dir.File("text.npz"), "not a zip");
        Assert.Contains("not an .npz (zip) archive", Assert.Throws<InvalidDataException>(() => NpzReader.Read(dir.File("text.npz"))).Message);
        WriteZip(dir.File("other.npz"), CompressionLevel.NoCompression, ("readme.txt", [1, 2]));
        Assert.Contains("'readme.txt' is not a .npy array", Assert.Throws<InvalidDataException>(() => NpzReader.Read(dir.File("other.npz"))).Message);
    }

    [Fact]
    public void Int64_view_of_a_uint8_array_is_refused()
    {
        var array = new NpzReader.Array("labels", "|u1", [1], [3]);
        Assert.Contains("expected int64", Assert.Throws<InvalidDataException>(() => array.ToInt64("f.npz")).Message);
    }

    /// <summary>A .npy file: magic, version, header length (2 bytes for v1, 4 for v2), padded header, data.</summary>
    private static byte[] Npy(int version, string dict, byte[] data)
    {
        var lengthSize = version == 1 ? 2 : 4;
        var unpadded = 8 + lengthSize + dict.Length + 1;
        var text = dict + new string(' ', (unpadded + 63) / 64 * 64 - unpadded) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange([(byte)version, 0]);
        bytes.AddRange(version == 1 ? BitConverter.GetBytes((ushort)text.Length) : BitConverter.GetBytes((uint)text.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(text));
        bytes.AddRange(data);
        return [.. bytes];
    }

    private static void WriteZip(string path, CompressionLevel level, params (string Name, byte[] Bytes)[] entries)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var stream = zip.CreateEntry(name, level).Open();
            stream.Write(bytes);
        }
    }
}
