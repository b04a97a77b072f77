using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using AmbientDiffusion.Torch.Imaging;
using Xunit.Abstractions;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>
/// The formats beyond 8-bit PNG and baseline JPEG (Fixtures/make_format_fixtures.py made the files and formats.json;
/// lossy files carry Pillow's decoding, an independent libjpeg-turbo and libwebp), and the headers and cuts a file
/// from anywhere may have.
/// </summary>
public sealed class ImageFormatsTests(ITestOutputHelper output)
{
    /// <summary>Levels by which two builds of libjpeg-turbo or libwebp (Pillow's, Skia's) and their colour conversions
    /// may differ on the same file.</summary>
    private const int DecoderSlack = 2;

    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    private static JsonElement Spec(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureDir, "formats.json")));
        return json.RootElement.GetProperty("images").GetProperty(name).Clone();
    }

    private static int[] Ints(JsonElement spec, string key) => spec.GetProperty(key).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(FixtureDir, name));

    private static ImagePixels Decode(string name, int channels = 0) => ImageCodec.DecodePixels(Bytes(name), name, channels);

    private static InvalidDataException AssertInvalid(byte[] bytes, string source, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodePixels(bytes, source));
        Assert.StartsWith(source + ": ", e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        return e;
    }

    // ---- PNG beyond 8-bit RGB --------------------------------------------------------------------------

    [Theory]
    [InlineData("rgb16_3x2.png")]
    [InlineData("gray16_3x2.png")]
    public void Sixteen_bit_png_decodes_to_the_high_byte_of_each_sample(string name)
    {
        // libpng's strip-16 inside Skia keeps the high byte, as stb_image did: prepared 16-bit PNGs keep their bytes.
        var spec = Spec(name);
        var image = Decode(name);
        Assert.Equal((2, 3, spec.GetProperty("channels").GetInt32()), (image.Height, image.Width, image.Channels));
        Assert.Equal(Ints(spec, "pixels16").Select(v => (byte)(v >> 8)), image.Pixels);
    }

    [Fact]
    public void Gray_alpha_png_keeps_its_two_channels_and_converts_without_compositing()
    {
        var stored = Ints(Spec("gray_alpha_3x2.png"), "pixels");
        var image = Decode("gray_alpha_3x2.png");
        Assert.Equal((2, 3, 2), (image.Height, image.Width, image.Channels));
        Assert.Equal(stored.Select(v => (byte)v), image.Pixels);
        var gray = stored.Where((_, i) => i % 2 == 0).Select(v => (byte)v).ToArray();
        Assert.Equal(gray, Decode("gray_alpha_3x2.png", 1).Pixels);
        Assert.Equal(gray.SelectMany(v => new[] { v, v, v }), Decode("gray_alpha_3x2.png", 3).Pixels);
        Assert.Equal(stored.Chunk(2).SelectMany(p => new[] { (byte)p[0], (byte)p[0], (byte)p[0], (byte)p[1] }), Decode("gray_alpha_3x2.png", 4).Pixels);
    }

    // ---- lossy formats against Pillow's decoding and the intended blocks --------------------------------

    [Theory]
    [InlineData("progressive_16x16.jpg")]
    [InlineData("cmyk_16x16.jpg")]
    [InlineData("lossy_16x16.webp")]
    public void Lossy_fixtures_decode_to_rgb_like_an_independent_decoder(string name)
    {
        var spec = Spec(name);
        var pillow = Ints(spec, "pillow_rgb");
        var image = Decode(name);
        Assert.Equal((16, 16, 3), (image.Height, image.Width, image.Channels));
        var difference = Enumerable.Range(0, pillow.Length).Max(i => Math.Abs(image.Pixels[i] - pillow[i]));
        output.WriteLine($"{name}: max abs difference from Pillow {difference}");
        Assert.True(difference <= DecoderSlack, $"{name}: differs from Pillow's decoding by {difference} levels");

        // The intended flat blocks, within what Pillow measured on them.
        var tolerance = Ints(spec, "measured_max_abs_error_per_channel");
        foreach (var block in spec.GetProperty("blocks").EnumerateObject())
        {
            var (rect, color) = (Ints(block.Value, "rect_xywh"), Ints(block.Value, "color"));
            for (var y = rect[1]; y < rect[1] + rect[3]; y++)
                for (var x = rect[0]; x < rect[0] + rect[2]; x++)
                    for (var c = 0; c < 3; c++)
                        Assert.InRange(image.Pixels[(y * 16 + x) * 3 + c], color[c] - tolerance[c] - DecoderSlack, color[c] + tolerance[c] + DecoderSlack);
        }
    }

    // ---- lossless WebP, GIF ------------------------------------------------------------------------------

    [Fact]
    public void Lossless_webp_decodes_to_the_exact_rgba_and_drops_alpha_for_rgb()
    {
        var rgba = Ints(Spec("lossless_4x3.webp"), "pixels").Select(v => (byte)v).ToArray();
        var image = Decode("lossless_4x3.webp");
        Assert.Equal((3, 4, 4), (image.Height, image.Width, image.Channels));
        Assert.Equal(rgba, image.Pixels);
        Assert.Equal(rgba.Where((_, i) => i % 4 != 3), Decode("lossless_4x3.webp", 3).Pixels);
    }

    [Fact]
    public void Gif_decodes_its_first_frame_exactly()
    {
        var spec = Spec("two_frames_4x3.gif");
        Assert.Equal(2, spec.GetProperty("frames").GetInt32());
        var image = Decode("two_frames_4x3.gif", 3);
        Assert.Equal((3, 4, 3), (image.Height, image.Width, image.Channels));
        Assert.Equal(Ints(spec, "pixels").Select(v => (byte)v), image.Pixels);
    }

    [Fact]
    public void Webp_encoded_by_skia_round_trips_through_the_codec()
    {
        var random = new Random(7);
        var rgba = new byte[5 * 6 * 4];
        random.NextBytes(rgba);
        byte[] webp;
        unsafe
        {
            fixed (byte* p = rgba)
            {
                var info = new SkiaSharp.SKImageInfo(6, 5, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul);
                using var pixmap = new SkiaSharp.SKPixmap(info, (IntPtr)p, info.RowBytes);
                using var data = pixmap.Encode(new SkiaSharp.SKWebpEncoderOptions(SkiaSharp.SKWebpEncoderCompression.Lossless, 100)) ?? throw new InvalidOperationException("Skia did not encode WebP");
                webp = data.ToArray();
            }
        }
        var image = ImageCodec.DecodePixels(webp, "skia.webp");
        Assert.Equal((5, 6, 4), (image.Height, image.Width, image.Channels));
        // Lossless WebP may replace the colour of fully transparent pixels; every other pixel is exact.
        for (var i = 0; i < rgba.Length; i += 4)
            if (rgba[i + 3] != 0) Assert.Equal(rgba[i..(i + 4)], image.Pixels[i..(i + 4)]);
    }

    // ---- headers that claim too much, cuts, corruption ---------------------------------------------------

    /// <summary>A PNG whose header claims <paramref name="width"/> x <paramref name="height"/> RGB pixels and whose
    /// image data holds one row of one pixel.</summary>
    private static byte[] PngClaiming(int width, int height)
    {
        static byte[] Chunk(string type, byte[] data)
        {
            var chunk = new byte[12 + data.Length];
            BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
            System.Text.Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
            data.CopyTo(chunk, 8);
            BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
            return chunk;
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        (header[8], header[9]) = (8, 2);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal)) zlib.Write([0, 1, 2, 3]);
        return [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, .. Chunk("IHDR", header), .. Chunk("IDAT", compressed.ToArray()), .. Chunk("IEND", [])];
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void A_header_claiming_100000_by_100000_pixels_is_refused_before_any_pixel_memory()
    {
        var png = PngClaiming(100_000, 100_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = AssertInvalid(png, "huge.png");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal($"huge.png: image is 100000x100000, beyond the limit of {ImageCodec.DefaultMaxDimension} pixels a side", e.Message);
        Assert.True(allocated < 1 << 20, $"refusing the header allocated {allocated} bytes"); // the pixels would take 40 GB

        // A JPEG's frame header claiming 60000 x 60000 (its data is a 16x16 image's) is refused the same way.
        var jpeg = Bytes("progressive_16x16.jpg");
        var sof = Enumerable.Range(2, jpeg.Length - 3).First(i => jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC2);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), 60_000);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), 60_000);
        AssertInvalid(jpeg, "huge.jpg", "image is 60000x60000, beyond the limit");
    }

    [Fact]
    public void A_header_claiming_more_pixels_than_the_data_holds_is_an_error_not_zero_padding()
    {
        var e = AssertInvalid(PngClaiming(64, 64), "short.png");
        output.WriteLine(e.Message);
    }

    [Theory]
    [InlineData("rgb16_3x2.png")]
    [InlineData("gray16_3x2.png")]
    [InlineData("gray_alpha_3x2.png")]
    [InlineData("progressive_16x16.jpg")]
    [InlineData("cmyk_16x16.jpg")]
    [InlineData("lossy_16x16.webp")]
    [InlineData("lossless_4x3.webp")]
    [InlineData("two_frames_4x3.gif")]
    public void Every_truncation_is_rejected_naming_the_source(string name)
    {
        var bytes = Bytes(name);
        var truncated = 0;
        for (var keep = 1; keep < bytes.Length; keep++)
            if (AssertInvalid(bytes[..keep], $"{name}[..{keep}]").Message.Contains("truncated", StringComparison.Ordinal)) truncated++;
        output.WriteLine($"{name}: {bytes.Length - 1} cuts rejected, {truncated} of them named as truncated");
        // Past the signature, a cut is named as such.
        AssertInvalid(bytes[..^1], name, "truncated");
        AssertInvalid(bytes[..(bytes.Length / 2)], name, "truncated");
    }

    [Fact]
    public void Random_bytes_behind_the_webp_and_gif_signatures_are_rejected()
    {
        var random = new Random(99);
        var bytes = new byte[2048];
        foreach (var signature in new[] { "GIF89a"u8.ToArray(), "GIF87a"u8.ToArray() })
            for (var trial = 0; trial < 20; trial++)
            {
                random.NextBytes(bytes);
                signature.CopyTo(bytes, 0);
                bytes[^1] = 0x3B; // a trailer, so the decoder itself has to find the damage
                AssertInvalid(bytes, $"random-gif-{trial}.gif");
            }
        for (var trial = 0; trial < 20; trial++)
        {
            random.NextBytes(bytes);
            "RIFF"u8.CopyTo(bytes);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)bytes.Length - 8);
            "WEBPVP8 "u8.CopyTo(bytes.AsSpan(8));
            AssertInvalid(bytes, $"random-{trial}.webp");
        }
    }

    [Fact]
    public void Damaged_image_data_is_an_error_not_a_silent_decode()
    {
        // A PNG's IDAT with one byte changed: libpng's CRC check (or zlib) refuses it.
        var png = Bytes("rgb16_3x2.png");
        var idat = png.AsSpan().IndexOf("IDAT"u8);
        png[idat + 6] ^= 0x5A;
        AssertInvalid(png, "damaged.png");
        // The lossless WebP with its pixel stream overwritten.
        var webp = Bytes("lossless_4x3.webp");
        for (var i = 30; i < webp.Length; i++) webp[i] = 0xFF;
        AssertInvalid(webp, "damaged.webp");
    }
}
