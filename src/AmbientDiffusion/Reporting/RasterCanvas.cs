using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.Imaging;

namespace AmbientDiffusion.Reporting;

/// <summary>
/// A small RGB raster (uint8, height x width x 3, row-major) with the few primitives charts need: filled rectangles,
/// lines of a given thickness, dashed lines, square markers and <see cref="BitmapFont"/> text. Encodes to PNG through
/// the binding's codec.
/// </summary>
public sealed class RasterCanvas
{
    /// <summary>A canvas filled with <paramref name="background"/>.</summary>
    public RasterCanvas(int width, int height, (byte R, byte G, byte B) background)
    {
        if (width < 1 || height < 1 || (long)width * height > 1 << 26) throw new ArgumentException($"canvas {width}x{height}: expected 1 to 2^26 pixels");
        (Width, Height) = (width, height);
        Pixels = new byte[width * height * 3];
        for (var i = 0; i < width * height; i++) (Pixels[3 * i], Pixels[3 * i + 1], Pixels[3 * i + 2]) = background;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>HWC RGB bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>Sets one pixel (ignored outside the canvas).</summary>
    public void Set(int x, int y, (byte R, byte G, byte B) color)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        var i = (y * Width + x) * 3;
        (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = color;
    }

    /// <summary>Fills the rectangle [x0, x1) x [y0, y1), clipped.</summary>
    public void FillRect(int x0, int y0, int x1, int y1, (byte R, byte G, byte B) color)
    {
        for (var y = Math.Max(0, y0); y < Math.Min(Height, y1); y++)
            for (var x = Math.Max(0, x0); x < Math.Min(Width, x1); x++) Set(x, y, color);
    }

    /// <summary>
    /// A line from (x0, y0) to (x1, y1) in pixel coordinates, <paramref name="thickness"/> pixels wide (square brush);
    /// with <paramref name="dash"/> &gt; 0, drawn in dashes of that many steps.
    /// </summary>
    public void Line(double x0, double y0, double x1, double y1, (byte R, byte G, byte B) color, int thickness = 1, int dash = 0)
    {
        var steps = (int)Math.Ceiling(Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0)));
        var lo = -(thickness - 1) / 2;
        for (var s = 0; s <= steps; s++)
        {
            if (dash > 0 && s / dash % 2 == 1) continue;
            var t = steps == 0 ? 0 : (double)s / steps;
            var x = (int)Math.Round(x0 + (x1 - x0) * t);
            var y = (int)Math.Round(y0 + (y1 - y0) * t);
            for (var dy = lo; dy < lo + thickness; dy++)
                for (var dx = lo; dx < lo + thickness; dx++) Set(x + dx, y + dy, color);
        }
    }

    /// <summary>Text with its top-left corner at (x, y); <paramref name="vertical"/> draws it rotated a quarter turn anticlockwise (reading upwards, starting at the bottom-left corner (x, y)).</summary>
    public void Text(int x, int y, string text, (byte R, byte G, byte B) color, int scale = 1, bool vertical = false)
    {
        for (var i = 0; i < text.Length; i++)
            for (var row = 0; row < BitmapFont.GlyphHeight; row++)
                for (var column = 0; column < BitmapFont.GlyphWidth; column++)
                {
                    if (!BitmapFont.IsSet(text[i], row, column)) continue;
                    var u = i * BitmapFont.Advance + column;
                    for (var sy = 0; sy < scale; sy++)
                        for (var sx = 0; sx < scale; sx++)
                        {
                            if (vertical) Set(x + row * scale + sy, y - u * scale - sx, color);
                            else Set(x + u * scale + sx, y + row * scale + sy, color);
                        }
                }
    }

    /// <summary>The canvas as a PNG file's bytes.</summary>
    public byte[] ToPng()
    {
        using var scope = torch.NewDisposeScope();
        return ImageCodec.EncodePng(torch.tensor(Pixels, [Height, Width, 3]));
    }
}
