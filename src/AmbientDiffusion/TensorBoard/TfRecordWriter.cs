using System.Buffers.Binary;

namespace AmbientDiffusion.TensorBoard;

/// <summary>
/// TFRecord framing, the container of TensorBoard event files: per record the length (uint64, little-endian), the
/// masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.
/// </summary>
public static class TfRecordWriter
{
    /// <summary>Bytes a record adds around its data.</summary>
    public const int FramingBytes = 8 + 4 + 4;

    /// <summary>Writes one framed record of <paramref name="data"/> to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
    }
}
