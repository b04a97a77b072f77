namespace AmbientDiffusion.Torch.Imaging;

/// <summary>The image formats <see cref="ImageCodec"/> decodes.</summary>
internal enum ImageFormat
{
    /// <summary>PNG, 8 or 16 bits per channel, any colour type.</summary>
    Png,
    /// <summary>JPEG: baseline or progressive; gray, YCbCr or CMYK.</summary>
    Jpeg,
    /// <summary>WebP, lossy or lossless.</summary>
    Webp,
    /// <summary>GIF; only the first frame is decoded.</summary>
    Gif,
    /// <summary>Windows bitmap.</summary>
    Bmp,
}
