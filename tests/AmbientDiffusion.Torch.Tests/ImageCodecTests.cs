using System.Buffers.Binary;
using System.Text.Json;
using AmbientDiffusion.Torch.Imaging;
using Xunit.Abstractions;

namespace AmbientDiffusion.Torch.Tests;

public sealed class ImageCodecTests : IDisposable
{
    /// <summary>Skia's libjpeg-turbo may differ from the build that measured the fixtures' tolerances (Pillow's) by a
    /// level or two in its IDCT and colour conversion; on these fixtures it measured the recorded [1, 0, 1] and [0].</summary>
    private const int DecoderSlack = 2;

    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"ad-images-{Guid.NewGuid():N}");
    private readonly ITestOutputHelper _output;

    public ImageCodecTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement Spec(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureDir, "images.json")));
        return json.RootElement.GetProperty("images").GetProperty(name).Clone();
    }

    private static string Fixture(string name) => Path.Combine(FixtureDir, name);

    private static byte[] Pixels(Tensor image) => image.data<byte>();

    // ---- decoding the fixtures -------------------------------------------------------------------------

    [Theory]
    [InlineData("rgb_4x3.png")]
    [InlineData("gray_5x2.png")]
    [InlineData("rgba_2x2.png")]
    public void Png_fixtures_decode_to_the_exact_pixels(string name)
    {
        var spec = Spec(name);
        Assert.Equal("png", spec.GetProperty("format").GetString());
        using var scope = torch.NewDisposeScope();
        var image = ImageCodec.DecodeFile(Fixture(name));
        Assert.Equal(ScalarType.Byte, image.dtype);
        Assert.Equal(new[] { spec.GetProperty("height").GetInt64(), spec.GetProperty("width").GetInt64(), spec.GetProperty("channels").GetInt64() }, image.shape);
        Assert.Equal(spec.GetProperty("pixels").EnumerateArray().Select(p => (byte)p.GetInt32()).ToArray(), Pixels(image));
        // Asking for the stored channel count explicitly changes nothing.
        Assert.Equal(Pixels(image), Pixels(ImageCodec.DecodeFile(Fixture(name), channels: (int)spec.GetProperty("channels").GetInt64())));
    }

    [Theory]
    [InlineData("blocks_16x16.jpg")]
    [InlineData("gray_16x8.jpg")]
    public void Jpeg_fixtures_decode_within_the_stated_tolerance(string name)
    {
        var spec = Spec(name);
        Assert.Equal("jpeg", spec.GetProperty("format").GetString());
        var (width, height, channels) = (spec.GetProperty("width").GetInt32(), spec.GetProperty("height").GetInt32(), spec.GetProperty("channels").GetInt32());
        var tolerance = spec.GetProperty("measured_max_abs_error_per_channel").EnumerateArray().Select(t => t.GetInt32() + DecoderSlack).ToArray();
        using var scope = torch.NewDisposeScope();
        var image = ImageCodec.DecodeFile(Fixture(name));
        Assert.Equal(new long[] { height, width, channels }, image.shape);
        var pixels = Pixels(image);
        var expected = ExpectedBlockImage(spec);
        var error = new int[channels];
        for (var i = 0; i < pixels.Length; i++) error[i % channels] = Math.Max(error[i % channels], Math.Abs(pixels[i] - expected[i]));
        _output.WriteLine($"{name}: max abs error per channel [{string.Join(", ", error)}], allowed [{string.Join(", ", tolerance)}]");
        for (var c = 0; c < channels; c++) Assert.True(error[c] <= tolerance[c], $"channel {c}: error {error[c]} > {tolerance[c]}");
    }

    /// <summary>The intended pixels of a JPEG fixture, from its blocks in images.json.</summary>
    private static int[] ExpectedBlockImage(JsonElement spec)
    {
        var (width, height, channels) = (spec.GetProperty("width").GetInt32(), spec.GetProperty("height").GetInt32(), spec.GetProperty("channels").GetInt32());
        var expected = Enumerable.Repeat(-1000, width * height * channels).ToArray();
        foreach (var block in spec.GetProperty("blocks").EnumerateObject())
        {
            var rect = block.Value.GetProperty("rect_xywh").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            var color = block.Value.GetProperty("color").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            for (var y = rect[1]; y < rect[1] + rect[3]; y++)
                for (var x = rect[0]; x < rect[0] + rect[2]; x++)
                    for (var c = 0; c < channels; c++) expected[(y * width + x) * channels + c] = color[c];
        }
        Assert.DoesNotContain(-1000, expected); // the blocks tile the image
        return expected;
    }

    // ---- channel conversion ----------------------------------------------------------------------------

    private static int Luma(int r, int g, int b) => (int)Math.Round(0.299 * r + 0.587 * g + 0.114 * b);

    [Fact]
    public void Rgb_converts_to_one_channel_luma_and_to_rgba_with_opaque_alpha()
    {
        var rgb = Spec("rgb_4x3.png").GetProperty("pixels").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        using var scope = torch.NewDisposeScope();
        var gray = ImageCodec.DecodeFile(Fixture("rgb_4x3.png"), channels: 1);
        Assert.Equal(new long[] { 3, 4, 1 }, gray.shape);
        var g = Pixels(gray);
        for (var i = 0; i < 12; i++)
            Assert.InRange(g[i], Luma(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) - 1, Luma(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) + 1);

        var grayAlpha = Pixels(ImageCodec.DecodeFile(Fixture("rgb_4x3.png"), channels: 2));
        for (var i = 0; i < 12; i++) Assert.Equal((g[i], (byte)255), (grayAlpha[2 * i], grayAlpha[2 * i + 1]));

        var rgba = Pixels(ImageCodec.DecodeFile(Fixture("rgb_4x3.png"), channels: 4));
        for (var i = 0; i < 12; i++)
            Assert.Equal(new[] { rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255 }, rgba.Skip(4 * i).Take(4).Select(v => (int)v));
    }

    [Fact]
    public void Gray_converts_to_three_identical_channels()
    {
        var gray = Spec("gray_5x2.png").GetProperty("pixels").EnumerateArray().Select(p => (byte)p.GetInt32()).ToArray();
        using var scope = torch.NewDisposeScope();
        var rgb = ImageCodec.DecodeFile(Fixture("gray_5x2.png"), channels: 3);
        Assert.Equal(new long[] { 2, 5, 3 }, rgb.shape);
        Assert.Equal(gray.SelectMany(v => new[] { v, v, v }), Pixels(rgb));
        var rgba = ImageCodec.DecodeFile(Fixture("gray_5x2.png"), channels: 4);
        Assert.Equal(gray.SelectMany(v => new[] { v, v, v, (byte)255 }), Pixels(rgba));

        // A gray JPEG as RGB: three equal channels.
        var jpeg = Pixels(ImageCodec.DecodeFile(Fixture("gray_16x8.jpg"), channels: 3));
        var jpegGray = Pixels(ImageCodec.DecodeFile(Fixture("gray_16x8.jpg")));
        Assert.Equal(jpegGray.SelectMany(v => new[] { v, v, v }), jpeg);
    }

    [Fact]
    public void Rgba_drops_alpha_for_three_channels()
    {
        var rgba = Spec("rgba_2x2.png").GetProperty("pixels").EnumerateArray().Select(p => (byte)p.GetInt32()).ToArray();
        using var scope = torch.NewDisposeScope();
        var rgb = Pixels(ImageCodec.DecodeFile(Fixture("rgba_2x2.png"), channels: 3));
        Assert.Equal(rgba.Where((_, i) => i % 4 != 3), rgb);
    }

    [Fact]
    public void Rgb_jpeg_converts_to_gray_near_the_luma_of_its_blocks()
    {
        var spec = Spec("blocks_16x16.jpg");
        var expected = ExpectedBlockImage(spec);
        var tolerance = spec.GetProperty("measured_max_abs_error_per_channel").EnumerateArray().Max(t => t.GetInt32()) + DecoderSlack + 1;
        using var scope = torch.NewDisposeScope();
        var gray = Pixels(ImageCodec.DecodeFile(Fixture("blocks_16x16.jpg"), channels: 1));
        Assert.Equal(256, gray.Length);
        for (var i = 0; i < 256; i++)
            Assert.InRange(gray[i], Luma(expected[3 * i], expected[3 * i + 1], expected[3 * i + 2]) - tolerance, Luma(expected[3 * i], expected[3 * i + 1], expected[3 * i + 2]) + tolerance);
    }

    [Fact]
    public void Channel_count_outside_0_to_4_is_an_argument_error()
    {
        var bytes = File.ReadAllBytes(Fixture("rgb_4x3.png"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCodec.Decode(bytes, "x", channels: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCodec.Decode(bytes, "x", channels: -1));
    }

    // ---- PNG encoding ----------------------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Png_encode_decode_round_trips_random_images(int channels)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator((ulong)channels);
        foreach (var (h, w) in new[] { (1, 1), (7, 5), (16, 33), (64, 3) })
        {
            var image = torch.randint(0, 256, [h, w, channels], ScalarType.Byte, generator: g);
            var png = ImageCodec.EncodePng(image);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, png[..8]);
            var back = ImageCodec.Decode(png, "encoded");
            Assert.Equal(image.shape, back.shape);
            Assert.Equal(Pixels(image), Pixels(back));
        }
    }

    [Fact]
    public void Png_encoding_of_a_non_contiguous_image_and_SavePng_round_trip()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(9);
        var image = torch.randint(0, 256, [6, 4, 3], ScalarType.Byte, generator: g).permute(1, 0, 2); // [4, 6, 3], strided
        Assert.False(image.is_contiguous());
        var path = Path.Combine(_dir, "out.png");
        ImageCodec.SavePng(path, image);
        Assert.Equal(new[] { "out.png" }, Directory.GetFiles(_dir).Select(Path.GetFileName));
        var back = ImageCodec.DecodeFile(path);
        Assert.Equal(new long[] { 4, 6, 3 }, back.shape);
        Assert.Equal(Pixels(image.contiguous()), Pixels(back));
    }

    [Fact]
    public void Png_encoding_of_a_wrong_dtype_or_shape_is_a_torch_exception()
    {
        using var scope = torch.NewDisposeScope();
        var cases = new[]
        {
            torch.zeros([2, 2, 3], ScalarType.Float32),
            torch.zeros([2, 2, 3], ScalarType.Int64),
            torch.zeros([4, 4], ScalarType.Byte),
            torch.zeros([1, 2, 2, 3], ScalarType.Byte),
            torch.zeros([2, 2, 5], ScalarType.Byte),
            torch.zeros([2, 2, 0], ScalarType.Byte),
            torch.zeros([2, 2, 2], ScalarType.Byte), // Skia's PNG encoder writes no gray+alpha
            torch.zeros([0, 3, 3], ScalarType.Byte),
            torch.zeros([3, 0, 3], ScalarType.Byte),
        };
        foreach (var image in cases)
        {
            var e = Assert.Throws<TorchException>(() => ImageCodec.EncodePng(image));
            Assert.Equal("encode_png", e.Operation);
            Assert.Contains("PNG encoding needs", e.Message, StringComparison.Ordinal);
        }
        var file = Path.Combine(_dir, "bad.png");
        Assert.Throws<TorchException>(() => ImageCodec.SavePng(file, cases[0]));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    // ---- invalid input ---------------------------------------------------------------------------------

    private InvalidDataException AssertInvalid(byte[] bytes, string source, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageCodec.Decode(bytes, source));
        Assert.StartsWith(source + ": ", e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        return e;
    }

    private InvalidDataException AssertInvalidFile(string path, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeFile(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        return e;
    }

    [Theory]
    [InlineData("rgb_4x3.png")]
    [InlineData("gray_5x2.png")]
    [InlineData("rgba_2x2.png")]
    public void Every_truncation_of_a_png_is_rejected(string name)
    {
        var bytes = File.ReadAllBytes(Fixture(name));
        for (var keep = 1; keep < 8; keep++) AssertInvalid(bytes[..keep], $"{name}[..{keep}]", "unrecognised signature");
        // Every cut, down to the last byte of the IEND chunk's CRC (which decoders never read).
        for (var keep = 8; keep < bytes.Length; keep++) AssertInvalid(bytes[..keep], $"{name}[..{keep}]", "truncated PNG");
        var path = Path.Combine(_dir, "cut.png");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertInvalidFile(path);
    }

    [Theory]
    [InlineData("blocks_16x16.jpg")]
    [InlineData("gray_16x8.jpg")]
    public void Every_truncation_of_a_jpeg_is_rejected(string name)
    {
        var bytes = File.ReadAllBytes(Fixture(name));
        for (var keep = 1; keep < bytes.Length; keep++) AssertInvalid(bytes[..keep], $"{name}[..{keep}]");
        AssertInvalid(bytes[..^2], name, "truncated JPEG", "end-of-image");
        AssertInvalid(bytes[..(bytes.Length / 2)], name, "truncated JPEG");
        AssertInvalid(bytes[..20], name, "truncated JPEG", "start-of-scan");
    }

    /// <summary>A bottom-up BMP with a BITMAPINFOHEADER: 24-bit BI_RGB, or 32-bit BI_BITFIELDS (BGRA masks, alpha unused).</summary>
    private static byte[] Bmp(int width, int height, int bpp, Func<int, int, (byte r, byte g, byte b)> pixel)
    {
        var masks = bpp == 32 ? 12 : 0;
        var offset = 14 + 40 + masks;
        var stride = (width * bpp + 31) / 32 * 4;
        var bytes = new byte[offset + stride * height];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), (short)bpp);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(30), bpp == 32 ? 3 : 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), stride * height);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(38), 2835);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(42), 2835);
        if (bpp == 32)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(54), 0x00FF0000);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(58), 0x0000FF00);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(62), 0x000000FF);
        }
        for (var y = 0; y < height; y++)
        {
            var row = offset + (height - 1 - y) * stride;
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                var p = row + x * bpp / 8;
                (bytes[p], bytes[p + 1], bytes[p + 2]) = (b, g, r);
            }
        }
        return bytes;
    }

    private static (byte, byte, byte) BmpPixel(int x, int y) => ((byte)(x * 40 + 1), (byte)(y * 70 + 2), (byte)(250 - x * 10 - y));

    [Theory]
    [InlineData(24)]
    [InlineData(32)]
    public void Bmp_written_here_decodes_and_every_truncation_is_rejected(int bpp)
    {
        const int width = 5, height = 3; // 24-bit rows of 15 bytes are padded to 16
        var bytes = Bmp(width, height, bpp, BmpPixel);
        using (var scope = torch.NewDisposeScope())
        {
            var image = ImageCodec.Decode(bytes, "test.bmp");
            Assert.Equal(new long[] { height, width, 3 }, image.shape);
            var expected = new List<byte>();
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                {
                    var (r, g, b) = BmpPixel(x, y);
                    expected.AddRange([r, g, b]);
                }
            Assert.Equal(expected, Pixels(image));
        }
        for (var keep = 1; keep < bytes.Length; keep++) AssertInvalid(bytes[..keep], $"test.bmp[..{keep}]");
        // From the end of the pixel offset field on, the check before the decoder names the truncation.
        for (var keep = 34; keep < bytes.Length; keep++) AssertInvalid(bytes[..keep], $"test.bmp[..{keep}]", "truncated BMP: pixel data needs");
        AssertInvalid(bytes[..^1], "test.bmp", "truncated BMP", $"needs {bytes.Length} bytes, file has {bytes.Length - 1}");
        AssertInvalid(bytes[..29], "test.bmp", "truncated BMP", "header incomplete");
    }

    [Fact]
    public void Random_bytes_are_rejected()
    {
        var random = new Random(1234);
        var bytes = new byte[4096];
        random.NextBytes(bytes);
        bytes[0] = 0; // no accidental signature
        AssertInvalid(bytes, "random.bin", "not a JPEG, PNG, WebP, GIF or BMP image");

        // Random bytes behind each valid signature.
        foreach (var signature in new byte[][] { [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10], [0xFF, 0xD8, 0xFF], [(byte)'B', (byte)'M'] })
        {
            for (var trial = 0; trial < 20; trial++)
            {
                random.NextBytes(bytes);
                signature.CopyTo(bytes, 0);
                AssertInvalid(bytes, $"random-{signature[1]}-{trial}.bin");
            }
        }
    }

    [Fact]
    public void Text_and_empty_files_are_rejected()
    {
        var text = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(text, "This is a text file, not an image.\nSecond line.\n");
        AssertInvalidFile(text, "not a JPEG, PNG, WebP, GIF or BMP image");
        var bm = Path.Combine(_dir, "bm.txt");
        File.WriteAllText(bm, "BMW is a car maker; this text starts like a BMP file does.\n");
        AssertInvalidFile(bm);
        var json = Path.Combine(_dir, "images.json");
        File.Copy(Path.Combine(FixtureDir, "images.json"), json);
        AssertInvalidFile(json, "not a JPEG, PNG, WebP, GIF or BMP image");

        var empty = Path.Combine(_dir, "empty.png");
        File.WriteAllBytes(empty, []);
        AssertInvalidFile(empty, "empty");
        AssertInvalid([], "memory", "empty");
        AssertInvalid([0x89], "one-byte", "not a JPEG, PNG, WebP, GIF or BMP image");
    }

    [Fact]
    public void Images_beyond_the_max_dimension_are_rejected()
    {
        var rgb = Fixture("rgb_4x3.png"); // 4 wide, 3 high
        var e = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeFile(rgb, maxDimension: 3));
        Assert.Equal($"{rgb}: image is 4x3, beyond the limit of 3 pixels a side", e.Message);
        using (var scope = torch.NewDisposeScope())
            Assert.Equal(new long[] { 3, 4, 3 }, ImageCodec.DecodeFile(rgb, maxDimension: 4).shape);
        var tall = Bmp(2, 9, 24, BmpPixel);
        e = Assert.Throws<InvalidDataException>(() => ImageCodec.Decode(tall, "tall.bmp", maxDimension: 8));
        Assert.Contains("2x9, beyond the limit of 8", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeFile(Fixture("blocks_16x16.jpg"), maxDimension: 15));
        Assert.Contains("16x16, beyond the limit of 15", e.Message, StringComparison.Ordinal);

        // A PNG header claiming 20000 x 4 pixels (with 4x3 pixels of data) is refused by the default limit, before decoding.
        var wide = File.ReadAllBytes(Fixture("rgb_4x3.png"));
        BinaryPrimitives.WriteInt32BigEndian(wide.AsSpan(16), 20_000);
        BinaryPrimitives.WriteInt32BigEndian(wide.AsSpan(20), 4);
        BinaryPrimitives.WriteUInt32BigEndian(wide.AsSpan(29), Crc32(wide.AsSpan(12, 17)));
        e = Assert.Throws<InvalidDataException>(() => ImageCodec.Decode(wide, "wide.png"));
        Assert.Equal($"wide.png: image is 20000x4, beyond the limit of {ImageCodec.DefaultMaxDimension} pixels a side", e.Message);
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
}
