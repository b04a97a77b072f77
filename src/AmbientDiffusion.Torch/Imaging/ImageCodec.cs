using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch.Imaging;

/// <summary>
/// Decodes JPEG, PNG and BMP images into uint8 [H, W, C] tensors and encodes PNG, through stb_image in the shim.
/// Truncated files, other formats and images beyond the size limit are errors that name the source.
/// </summary>
public static class ImageCodec
{
    /// <summary>Default limit on width and height: large enough for any photo dataset, small enough that a corrupt
    /// header cannot make us allocate gigabytes.</summary>
    public const int DefaultMaxDimension = 16384;

    /// <summary>Decodes <paramref name="bytes"/>; <paramref name="channels"/> 0 keeps the stored channel count, 1 converts to
    /// grey, 3 to RGB, 4 to RGBA. <paramref name="source"/> names the data in errors.</summary>
    public static unsafe Tensor Decode(ReadOnlySpan<byte> bytes, string source, int channels = 0, int maxDimension = DefaultMaxDimension)
    {
        torch.Initialize();
        if (channels is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 0 (as stored), 1, 2, 3 or 4");
        if (bytes.IsEmpty) throw new InvalidDataException($"{source}: empty file, not an image");
        fixed (byte* p = bytes)
        {
            var handle = NativeMethods.ad_image_decode(p, bytes.Length, channels, maxDimension);
            if (handle == IntPtr.Zero) throw new InvalidDataException($"{source}: {NativeMethods.LastError()}");
            return new Tensor(handle);
        }
    }

    /// <summary>Reads and decodes an image file.</summary>
    public static Tensor DecodeFile(string path, int channels = 0, int maxDimension = DefaultMaxDimension) =>
        Decode(File.ReadAllBytes(path), path, channels, maxDimension);

    /// <summary>Encodes a uint8 [H, W, C] tensor (C = 1, 2, 3 or 4) as PNG bytes.</summary>
    public static byte[] EncodePng(Tensor image)
    {
        using var scope = torch.NewDisposeScope();
        var png = Tensor.FromNative(NativeMethods.ad_image_encode_png(image.Handle), "encode_png");
        return png.data<byte>();
    }

    /// <summary>Encodes a uint8 [H, W, C] tensor (C = 1 or 3) as baseline JPEG.</summary>
    public static byte[] EncodeJpeg(Tensor image, int quality = 95)
    {
        using var scope = torch.NewDisposeScope();
        var jpeg = Tensor.FromNative(NativeMethods.ad_image_encode_jpeg(image.Handle, quality), "encode_jpeg");
        return jpeg.data<byte>();
    }

    /// <summary>Writes a uint8 [H, W, C] tensor as a PNG file, atomically.</summary>
    public static void SavePng(string path, Tensor image) => AtomicFile.WriteAllBytes(path, EncodePng(image));
}
