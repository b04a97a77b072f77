using AmbientDiffusion.Reporting;
using SkiaSharp;

namespace AmbientDiffusion.Tests;

/// <summary>Pictures drawn with Skia: image grids keep every source pixel exactly, text is drawn, PNGs repeat.</summary>
public class PictureTests
{
    private static byte[] Noise(int height, int width, int seed)
    {
        var random = new Random(seed);
        var rgb = new byte[height * width * 3];
        random.NextBytes(rgb);
        return rgb;
    }

    private static (byte, byte, byte) Pixel(SKBitmap bitmap, int x, int y)
    {
        var c = bitmap.GetPixel(x, y);
        return (c.Red, c.Green, c.Blue);
    }

    [Fact]
    public void Each_tile_of_a_grid_png_equals_its_input_image_pixel_for_pixel()
    {
        var images = Enumerable.Range(0, 5).Select(i => Noise(7, 9, i)).ToList();
        var png = ImageSheet.Png(images, 7, 9, columns: 3, gap: 2);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(ImageSheet.Size(5, 7, 9, 3, 2), (bitmap.Height, bitmap.Width));
        for (var i = 0; i < images.Count; i++)
        {
            var (left, top) = (2 + i % 3 * (9 + 2), 2 + i / 3 * (7 + 2));
            for (var y = 0; y < 7; y++)
                for (var x = 0; x < 9; x++)
                {
                    var k = (y * 9 + x) * 3;
                    Assert.Equal((images[i][k], images[i][k + 1], images[i][k + 2]), Pixel(bitmap, left + x, top + y));
                }
        }
        Assert.Equal((255, 255, 255), Pixel(bitmap, 0, 0)); // the gap is white
        Assert.Equal(png, ImageSheet.Png(images, 7, 9, columns: 3, gap: 2));
    }

    [Fact]
    public void Enlarged_tiles_repeat_each_source_pixel_as_an_exact_square_without_smoothing()
    {
        var image = Noise(5, 4, 11);
        using var picture = ImageSheet.Render([image], 5, 4, columns: 1, gap: 0, scale: 3);
        var rgb = picture.Rgb();
        Assert.Equal((15, 12), (picture.Height, picture.Width));
        for (var y = 0; y < 15; y++)
            for (var x = 0; x < 12; x++)
                for (var c = 0; c < 3; c++)
                    Assert.Equal(image[(y / 3 * 4 + x / 3) * 3 + c], rgb[(y * 12 + x) * 3 + c]);
    }

    [Fact]
    public void Text_is_drawn_in_ink_and_measured_by_the_embedded_font()
    {
        using var picture = new Picture(200, 40, (255, 255, 255));
        picture.Text("What the model saw", 4, 4, 20, (0, 0, 0));
        var rgb = picture.Rgb();
        var dark = Enumerable.Range(0, 200 * 40).Count(i => rgb[3 * i] < 100);
        Assert.True(dark > 200, $"{dark} dark pixels");
        Assert.InRange(Picture.TextWidth("What the model saw", 20), 150, 240);
        Assert.True(Picture.TextWidth("WW", 20) > Picture.TextWidth("ii", 20)); // proportional type, not a fixed grid
    }

    [Fact]
    public void Mismatched_image_bytes_are_refused_with_the_expected_size()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageSheet.Png([new byte[10]], 2, 2, 1));
        Assert.Contains("2x2", error.Message, StringComparison.Ordinal);
    }
}
