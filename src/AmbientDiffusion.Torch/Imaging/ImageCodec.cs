using System.Buffers;
using System.Globalization;
using AmbientDiffusion.Torch.IO;
using SkiaSharp;

namespace AmbientDiffusion.Torch.Imaging;

/// <summary>
/// Decodes JPEG (baseline, progressive, CMYK), PNG (8 and 16 bits), WebP, GIF (first frame) and BMP into 8-bit
/// [H, W, C] pixels, and encodes PNG and JPEG, through Skia's codecs (libjpeg-turbo, libpng, libwebp: maintained and
/// fuzzed upstream, so fit for files from anywhere). The header is read and the size checked before any pixel memory
/// is allocated. Truncated files, other formats and images beyond the size limit are errors that name the source.
/// No colour management is applied (embedded ICC profiles and gamma are ignored), as before Skia.
/// </summary>
public static class ImageCodec
{
    /// <summary>Default limit on width and height: large enough for any photo dataset, small enough that a corrupt
    /// header cannot make us allocate gigabytes (at most 16384² RGBA pixels, 1 GiB).</summary>
    public const int DefaultMaxDimension = 16384;

    /// <summary>Decode buffers up to this size (a 2048² RGBA image) come from the shared array pool.</summary>
    private const int MaxPooledBytes = 16 << 20;

    /// <summary>The most pixels a side PNG and JPEG encoding accept (JPEG's own limit is 65535).</summary>
    private const int MaxEncodeDimension = 65535;

    /// <summary>Decodes <paramref name="bytes"/>; <paramref name="channels"/> 0 keeps the stored channel count, 1 converts to
    /// grey, 2 to grey and alpha, 3 to RGB, 4 to RGBA. <paramref name="source"/> names the data in errors.</summary>
    /// <exception cref="InvalidDataException">not an image of a known format, cut short, corrupt, or beyond
    /// <paramref name="maxDimension"/> pixels a side; the message starts with <paramref name="source"/>.</exception>
    public static ImagePixels DecodePixels(ReadOnlySpan<byte> bytes, string source, int channels = 0, int maxDimension = DefaultMaxDimension)
    {
        if (channels is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 0 (as stored), 1, 2, 3 or 4");
        if (bytes.IsEmpty) throw new InvalidDataException($"{source}: empty file, not an image");
        try
        {
            return DecodeWhole(bytes, channels, maxDimension);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Decodes <paramref name="bytes"/> into a uint8 [H, W, C] tensor; see <see cref="DecodePixels"/>.</summary>
    public static Tensor Decode(ReadOnlySpan<byte> bytes, string source, int channels = 0, int maxDimension = DefaultMaxDimension)
    {
        var image = DecodePixels(bytes, source, channels, maxDimension);
        return torch.tensor(image.Pixels, [image.Height, image.Width, image.Channels]);
    }

    /// <summary>Reads and decodes an image file.</summary>
    public static Tensor DecodeFile(string path, int channels = 0, int maxDimension = DefaultMaxDimension) =>
        Decode(File.ReadAllBytes(path), path, channels, maxDimension);

    private static unsafe ImagePixels DecodeWhole(ReadOnlySpan<byte> bytes, int channels, int maxDimension)
    {
        var format = ImageFormatCheck.Check(bytes);
        using var data = SKData.CreateCopy(bytes);
        using var stream = new SKMemoryStream(data); // the codec takes it over
        using var codec = SKCodec.Create(stream, out var opened)
            ?? throw new InvalidDataException($"undecodable {Name(format)} header (Skia: {opened})");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0 || width > maxDimension || height > maxDimension)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"image is {width}x{height}, beyond the limit of {maxDimension} pixels a side"));

        // Gray sources decode to one byte a pixel, everything else to unpremultiplied RGBA; a null colour space
        // asks Skia for the stored values, untransformed.
        var gray = codec.Info.ColorType == SKColorType.Gray8;
        var stored = gray ? 1 : IsGrayAlphaPng(format, bytes) ? 2 : codec.Info.AlphaType == SKAlphaType.Opaque ? 3 : 4;
        var info = new SKImageInfo(width, height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, gray ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        var length = info.BytesSize;
        // Dataset-sized images reuse pooled buffers; a rare huge one is not kept alive by the pool afterwards.
        var pooled = length <= MaxPooledBytes;
        var buffer = pooled ? ArrayPool<byte>.Shared.Rent(length) : GC.AllocateUninitializedArray<byte>(length);
        try
        {
            SKCodecResult result;
            fixed (byte* p = buffer) result = codec.GetPixels(info, (IntPtr)p);
            if (result == SKCodecResult.IncompleteInput)
                throw new InvalidDataException($"truncated {Name(format)}: the image data ends early (Skia: {result})");
            if (result != SKCodecResult.Success)
                throw new InvalidDataException($"corrupt {Name(format)} image data (Skia: {result})");
            var target = channels == 0 ? stored : channels;
            var pixels = gray ? ChannelConversion.FromGray(buffer.AsSpan(0, length), target) : ChannelConversion.FromRgba(buffer.AsSpan(0, length), target);
            return new ImagePixels(pixels, height, width, target);
        }
        finally
        {
            if (pooled) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Skia decodes a gray PNG with alpha as RGBA; its header says it stores two channels.</summary>
    private static bool IsGrayAlphaPng(ImageFormat format, ReadOnlySpan<byte> bytes) =>
        format == ImageFormat.Png && bytes.Length > 25 && bytes[12..16].SequenceEqual("IHDR"u8) && bytes[25] == 4;

    private static string Name(ImageFormat format) => format switch
    {
        ImageFormat.Png => "PNG",
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Webp => "WebP",
        ImageFormat.Gif => "GIF",
        _ => "BMP",
    };

    /// <summary>Encodes a uint8 [H, W, C] tensor (C = 1, 3 or 4) as PNG bytes.</summary>
    /// <exception cref="TorchException">another dtype or shape (operation "encode_png").</exception>
    public static byte[] EncodePng(Tensor image)
    {
        var (pixels, info) = Encodable(image, "PNG", "encode_png", [1, 3, 4]);
        return Encode(pixels, info, "encode_png", p => p.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, zLibLevel: 6)));
    }

    /// <summary>Encodes a uint8 [H, W, C] tensor (C = 1 or 3) as JPEG without chroma subsampling.</summary>
    /// <exception cref="TorchException">another dtype or shape, or a quality outside 1..100 (operation "encode_jpeg").</exception>
    public static byte[] EncodeJpeg(Tensor image, int quality = 95)
    {
        if (quality is < 1 or > 100) throw new TorchException("encode_jpeg", $"JPEG quality must lie in 1..100, got {quality}");
        var (pixels, info) = Encodable(image, "JPEG", "encode_jpeg", [1, 3]);
        return Encode(pixels, info, "encode_jpeg",
            p => p.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample444, SKJpegEncoderAlphaOption.Ignore)));
    }

    /// <summary>Writes a uint8 [H, W, C] tensor as a PNG file, atomically.</summary>
    public static void SavePng(string path, Tensor image) => AtomicFile.WriteAllBytes(path, EncodePng(image));

    /// <summary>Checks an image for an encoder and lays it out as Skia's gray or opaque/unpremultiplied RGBA pixels.</summary>
    private static (byte[] Pixels, SKImageInfo Info) Encodable(Tensor image, string format, string operation, int[] channelCounts)
    {
        var shape = image.shape;
        if (image.dtype != ScalarType.Byte || shape.Length != 3 || !channelCounts.Contains((int)shape[2]))
            throw new TorchException(operation, $"{format} encoding needs a uint8 [H, W, C] tensor with C in {{{string.Join(", ", channelCounts)}}}, " +
                                                $"got {image.dtype} [{string.Join(", ", shape)}]");
        if (shape[0] is < 1 or > MaxEncodeDimension || shape[1] is < 1 or > MaxEncodeDimension)
            throw new TorchException(operation, $"{format} encoding needs 1 to {MaxEncodeDimension} pixels a side, got [{string.Join(", ", shape)}]");
        var (height, width, channels) = ((int)shape[0], (int)shape[1], (int)shape[2]);
        var pixels = image.data<byte>();
        if (channels == 1) return (pixels, new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        if (channels == 4) return (pixels, new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var rgba = new byte[checked(pixels.Length / 3 * 4)];
        for (int i = 0, o = 0; i < pixels.Length; i += 3, o += 4)
            (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3]) = (pixels[i], pixels[i + 1], pixels[i + 2], 255);
        return (rgba, new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque)); // opaque: written without alpha
    }

    private static unsafe byte[] Encode(byte[] pixels, SKImageInfo info, string operation, Func<SKPixmap, SKData?> encode)
    {
        fixed (byte* p = pixels)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)p, info.RowBytes);
            using var data = encode(pixmap) ?? throw new TorchException(operation, $"Skia could not encode a {info.Width}x{info.Height} {info.ColorType} image");
            return data.ToArray();
        }
    }
}
