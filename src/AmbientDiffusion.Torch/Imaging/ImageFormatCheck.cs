using System.Buffers.Binary;
using System.Globalization;

namespace AmbientDiffusion.Torch.Imaging;

/// <summary>
/// Recognises a format by its signature and checks that the file is whole before a decoder sees it. A decoder that
/// meets the end of a file early pads the missing rows (libjpeg-turbo greys them, Skia's PNG and BMP decoders zero
/// them) or, for PNG, never reads the last chunk at all; for a dataset tool either is silent data corruption, so a
/// file cut short is named as truncated here. Skia's own incomplete-input result catches the cuts these checks miss.
/// </summary>
internal static class ImageFormatCheck
{
    /// <summary>What a file of no known signature is told.</summary>
    internal const string Unrecognised = "not a JPEG, PNG, WebP, GIF or BMP image (unrecognised signature)";

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10];

    /// <summary>The format of <paramref name="b"/>, after checking that the file is complete.</summary>
    /// <exception cref="InvalidDataException">no known signature, or the file is cut short (message without the source).</exception>
    internal static ImageFormat Check(ReadOnlySpan<byte> b)
    {
        var format = Sniff(b);
        switch (format)
        {
            case ImageFormat.Png: CheckPngComplete(b); break;
            case ImageFormat.Jpeg: CheckJpegComplete(b); break;
            case ImageFormat.Webp: CheckRiffComplete(b); break;
            case ImageFormat.Gif: CheckGifComplete(b); break;
            case ImageFormat.Bmp: CheckBmpComplete(b); break;
        }
        return format;
    }

    private static ImageFormat Sniff(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith(PngSignature)) return ImageFormat.Png;
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat.Jpeg;
        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8)) return ImageFormat.Webp;
        if (b.StartsWith("GIF87a"u8) || b.StartsWith("GIF89a"u8)) return ImageFormat.Gif;
        if (b.StartsWith("BM"u8)) return ImageFormat.Bmp;
        throw new InvalidDataException(Unrecognised);
    }

    /// <summary>A PNG is whole when its chunks (length, type, data, CRC) lead to a complete IEND chunk; decoders stop
    /// at the last image data and never read it.</summary>
    private static void CheckPngComplete(ReadOnlySpan<byte> b)
    {
        long pos = 8;
        while (pos + 12 <= b.Length)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(b[(int)pos..]);
            if (b.Slice((int)pos + 4, 4).SequenceEqual("IEND"u8)) return;
            pos += 12 + length;
        }
        throw new InvalidDataException("truncated PNG: the file ends before a complete IEND chunk");
    }

    /// <summary>Entropy-coded JPEG data escapes 0xFF as FF 00, so FF D9 after the last start-of-scan is the real
    /// end-of-image marker; its absence means the file was cut short.</summary>
    private static void CheckJpegComplete(ReadOnlySpan<byte> b)
    {
        var lastScan = -1;
        for (var i = 0; i + 1 < b.Length; i++)
            if (b[i] == 0xFF && b[i + 1] == 0xDA) lastScan = i;
        if (lastScan < 0) throw new InvalidDataException("truncated JPEG: no start-of-scan marker");
        for (var i = lastScan + 2; i + 1 < b.Length; i++)
            if (b[i] == 0xFF && b[i + 1] == 0xD9) return;
        throw new InvalidDataException("truncated JPEG: no end-of-image marker after the scan data");
    }

    /// <summary>A WebP file is a RIFF container that states its own size.</summary>
    private static void CheckRiffComplete(ReadOnlySpan<byte> b)
    {
        var needed = 8L + BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
        if (needed > b.Length) throw new InvalidDataException(Needs("WebP: the RIFF container", needed, b.Length));
    }

    /// <summary>A GIF ends with its trailer byte (0x3B).</summary>
    private static void CheckGifComplete(ReadOnlySpan<byte> b)
    {
        if (b[^1] != 0x3B) throw new InvalidDataException("truncated GIF: the file does not end with the GIF trailer");
    }

    /// <summary>Uncompressed BMPs declare where the pixels start and how wide a row is; the file must hold them all.</summary>
    private static void CheckBmpComplete(ReadOnlySpan<byte> b)
    {
        if (b.Length < 30) throw new InvalidDataException("truncated BMP: header incomplete");
        var header = BinaryPrimitives.ReadUInt32LittleEndian(b[14..]);
        if (header < 40 || b.Length < 34) return; // OS/2 headers: left to the decoder
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(b[10..]);
        long width = BinaryPrimitives.ReadInt32LittleEndian(b[18..]);
        var height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b[22..]));
        long bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(b[28..]);
        var compression = BinaryPrimitives.ReadUInt32LittleEndian(b[30..]);
        // 0 BI_RGB and 3 BI_BITFIELDS store pixels uncompressed; the run-length encodings are left to the decoder.
        if ((compression != 0 && compression != 3) || width <= 0 || bitsPerPixel == 0) return;
        var stride = (width * bitsPerPixel + 31) / 32 * 4;
        if (offset + stride * height > b.Length) throw new InvalidDataException(Needs("BMP: pixel data", offset + stride * height, b.Length));
    }

    private static string Needs(string what, long needed, long length) =>
        string.Create(CultureInfo.InvariantCulture, $"truncated {what} needs {needed} bytes, file has {length}");
}
