using SkiaSharp;

namespace AmbientDiffusion.Reporting;

/// <summary>
/// An RGB picture drawn with Skia (story pictures, image grids, confusion matrices): small images placed 1:1 or
/// enlarged by a whole factor without smoothing, so every source pixel stays an exact square; text in the embedded
/// <see cref="ReportFont"/>; PNG encoded by Skia. Disposing it releases Skia's native memory.
/// </summary>
public sealed class Picture : IDisposable
{
    private readonly SKBitmap _bitmap;
    private readonly SKCanvas _canvas;

    /// <summary>A picture filled with <paramref name="background"/>.</summary>
    public Picture(int width, int height, (byte R, byte G, byte B) background)
    {
        if (width < 1 || height < 1 || (long)width * height > 1 << 26) throw new ArgumentException($"picture {width}x{height}: expected 1 to 2^26 pixels");
        (Width, Height) = (width, height);
        _bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        _canvas = new SKCanvas(_bitmap);
        _canvas.Clear(Color(background));
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Places an RGB image (HWC bytes, <paramref name="height"/>×<paramref name="width"/>) with its top-left
    /// corner at (<paramref name="left"/>, <paramref name="top"/>), each pixel drawn as a <paramref name="scale"/>-wide square.</summary>
    public void Image(ReadOnlySpan<byte> rgb, int height, int width, int left, int top, int scale = 1)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "expected a whole enlargement factor of at least 1");
        using var tile = Bitmap(rgb, height, width);
        using var image = SKImage.FromBitmap(tile);
        // Nearest-neighbour sampling at a whole factor copies each source pixel into an exact square: no blending.
        _canvas.DrawImage(image, SKRect.Create(left, top, width * scale, height * scale), new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None));
    }

    /// <summary>Fills the rectangle [x0, x1) × [y0, y1).</summary>
    public void Fill(float x0, float y0, float x1, float y1, (byte R, byte G, byte B) color)
    {
        using var paint = new SKPaint { Color = Color(color), IsAntialias = false, Style = SKPaintStyle.Fill };
        _canvas.DrawRect(SKRect.Create(x0, y0, x1 - x0, y1 - y0), paint);
    }

    /// <summary>A straight line, <paramref name="width"/> pixels wide.</summary>
    public void Line(float x0, float y0, float x1, float y1, (byte R, byte G, byte B) color, float width = 1)
    {
        using var paint = new SKPaint { Color = Color(color), IsAntialias = true, StrokeWidth = width, Style = SKPaintStyle.Stroke };
        _canvas.DrawLine(x0, y0, x1, y1, paint);
    }

    /// <summary>Text of <paramref name="size"/> pixels whose top edge (the font's ascent) is at <paramref name="top"/>,
    /// anchored at <paramref name="x"/> as <paramref name="align"/> says; <paramref name="vertical"/> turns it a quarter
    /// anticlockwise (reading upwards, with (x, top) then the bottom-left corner of the turned text).</summary>
    public void Text(string text, float x, float top, float size, (byte R, byte G, byte B) color, SKTextAlign align = SKTextAlign.Left, bool vertical = false)
    {
        using var font = ReportFont.Create(size);
        using var paint = new SKPaint { Color = Color(color), IsAntialias = true };
        _canvas.Save();
        if (vertical) _canvas.RotateDegrees(-90, x, top);
        _canvas.DrawText(text, x, top - font.Metrics.Ascent, align, font, paint);
        _canvas.Restore();
    }

    /// <summary>The advance width of <paramref name="text"/> at <paramref name="size"/> pixels.</summary>
    public static float TextWidth(string text, float size)
    {
        using var font = ReportFont.Create(size);
        return font.MeasureText(text);
    }

    /// <summary>The line height (ascent plus descent) of text at <paramref name="size"/> pixels.</summary>
    public static float TextHeight(float size)
    {
        using var font = ReportFont.Create(size);
        return font.Metrics.Descent - font.Metrics.Ascent;
    }

    /// <summary>The pixels as HWC RGB bytes.</summary>
    public byte[] Rgb()
    {
        _canvas.Flush();
        var rgba = _bitmap.GetPixelSpan();
        var rgb = new byte[Width * Height * 3];
        for (var i = 0; i < Width * Height; i++)
            (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]);
        return rgb;
    }

    /// <summary>The picture as a PNG file's bytes.</summary>
    public byte[] ToPng()
    {
        _canvas.Flush();
        return Png.Encode(_bitmap);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _canvas.Dispose();
        _bitmap.Dispose();
    }

    /// <summary>An opaque Skia bitmap holding an RGB image (HWC bytes).</summary>
    internal static SKBitmap Bitmap(ReadOnlySpan<byte> rgb, int height, int width)
    {
        if (height < 1 || width < 1 || rgb.Length != height * width * 3) throw new ArgumentException($"expected {height}x{width} RGB bytes ({height * width * 3}), got {rgb.Length}");
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = bitmap.GetPixelSpan();
        for (var i = 0; i < height * width; i++)
            (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], (byte)255);
        return bitmap;
    }

    private static SKColor Color((byte R, byte G, byte B) c) => new(c.R, c.G, c.B);
}
