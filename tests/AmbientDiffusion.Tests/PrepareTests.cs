using AmbientDiffusion.Data;

namespace AmbientDiffusion.Tests;

public class PrepareTests
{
    private static void AssertNothingWritten(TempDir dir, string output)
    {
        Assert.False(File.Exists(output), $"{output} should not exist after a failure");
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(output)!, "*.tmp"));
    }

    private static string CelebAFixture(TempDir dir, int count = 12)
    {
        var root = Path.Combine(dir.Path, "celeba");
        var lines = new List<string>();
        for (var i = 1; i <= count; i++)
        {
            var name = $"{i:000000}.jpg";
            Fixtures.WriteImage(Path.Combine(root, CelebASource.ImageFolder, name), Fixtures.RandomPixels(218, 178, 3, i), 218, 178, 3);
            lines.Add($"{name} {(i <= count / 2 ? 0 : i <= 3 * count / 4 ? 1 : 2)}");
        }
        File.WriteAllLines(Path.Combine(root, CelebASource.PartitionFile), lines);
        return root;
    }

    [Fact]
    public void CelebA_layout_with_partition_and_crop()
    {
        using var dir = new TempDir();
        var root = CelebAFixture(dir);
        var source = new CelebASource(root, "train");
        Assert.Equal(6, source.Count);
        Assert.Equal("train", source.Partition(0));
        Assert.Equal(12, new CelebASource(root).Count);
        var output = dir.File("celeba.safetensors");
        var result = DatasetPreparer.Run(source, output, new PrepareOptions(Resolution: 16, Channels: 3, Crop: 140, Count: 4, HeldOut: 2, Seed: 1));
        using var prepared = PreparedDataset.Open(output);
        Assert.Equal((4, 2, 3, 16, 16), (prepared.Count, prepared.HeldOutCount, prepared.Channels, prepared.Height, prepared.Width));
        Assert.Contains("\"subset_seed\":1", prepared.Provenance, StringComparison.Ordinal);
        Assert.Contains("\"crop\":\"140\"", prepared.Provenance, StringComparison.Ordinal);
        Assert.Equal(64, result.ContentSha256.Length);
        Assert.Contains("validation", Assert.Throws<ArgumentException>(() => new CelebASource(root, "dev")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CelebA_partition_file_errors_name_the_line()
    {
        using var dir = new TempDir();
        var root = CelebAFixture(dir, count: 2);
        File.AppendAllLines(Path.Combine(root, CelebASource.PartitionFile), ["000003.jpg seven"]);
        var e = Assert.Throws<InvalidDataException>(() => new CelebASource(root));
        Assert.Contains($"{CelebASource.PartitionFile}:3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_folder_is_recursive_sorted_and_deterministic()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "images");
        Fixtures.WriteImage(Path.Combine(root, "b", "2.png"), Fixtures.RandomPixels(20, 24, 3, 1), 20, 24, 3);
        Fixtures.WriteImage(Path.Combine(root, "a.png"), Fixtures.RandomPixels(30, 30, 3, 2), 30, 30, 3);
        Fixtures.WriteImage(Path.Combine(root, "b", "1.jpg"), Fixtures.RandomPixels(40, 32, 3, 3), 40, 32, 3);
        File.WriteAllText(Path.Combine(root, "notes.txt"), "not an image");
        var source = new ImageFolderSource(root);
        Assert.Equal(3, source.Count);
        Assert.EndsWith("a.png", source.ItemName(0), StringComparison.Ordinal);
        Assert.EndsWith(Path.Combine("b", "1.jpg"), source.ItemName(1), StringComparison.Ordinal);
        var first = DatasetPreparer.Run(source, dir.File("one.safetensors"), new PrepareOptions(8, 1, Seed: 5));
        var second = DatasetPreparer.Run(source, dir.File("two.safetensors"), new PrepareOptions(8, 1, Seed: 5));
        Assert.Equal(File.ReadAllBytes(dir.File("one.safetensors")), File.ReadAllBytes(dir.File("two.safetensors")));
        Assert.Equal(first.ContentSha256, second.ContentSha256);
    }

    /// <summary>Lossless WebP written by Skia, for a folder of mixed formats.</summary>
    private static unsafe void WriteLosslessWebp(string path, byte[] rgb, int height, int width)
    {
        var rgba = new byte[height * width * 4];
        for (int i = 0, o = 0; i < rgb.Length; i += 3, o += 4) (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3]) = (rgb[i], rgb[i + 1], rgb[i + 2], 255);
        fixed (byte* p = rgba)
        {
            var info = new SkiaSharp.SKImageInfo(width, height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
            using var pixmap = new SkiaSharp.SKPixmap(info, (IntPtr)p, info.RowBytes);
            using var webp = pixmap.Encode(new SkiaSharp.SKWebpEncoderOptions(SkiaSharp.SKWebpEncoderCompression.Lossless, 100))
                ?? throw new InvalidOperationException("Skia did not encode WebP");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, webp.ToArray());
        }
    }

    [Fact]
    public void A_folder_of_webp_and_png_files_prepares_to_their_exact_pixels()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "images");
        var (first, second) = (Fixtures.RandomPixels(12, 12, 3, 11), Fixtures.RandomPixels(12, 12, 3, 12));
        WriteLosslessWebp(Path.Combine(root, "a.webp"), first, 12, 12);
        Fixtures.WriteImage(Path.Combine(root, "b.png"), second, 12, 12, 3);
        var output = dir.File("out.safetensors");
        DatasetPreparer.Run(new ImageFolderSource(root), output, new PrepareOptions(12, 3));
        using var prepared = PreparedDataset.Open(output);
        Assert.Equal(2, prepared.Count);
        var image = new byte[prepared.ImageBytes];
        foreach (var (index, hwc) in new[] { (0, first), (1, second) })
        {
            prepared.ReadImage(index, image);
            // Prepared images are CHW; at their own size nothing is resampled.
            for (var c = 0; c < 3; c++)
                for (var p = 0; p < 144; p++) Assert.Equal(hwc[p * 3 + c], image[c * 144 + p]);
        }
    }

    [Fact]
    public void Bad_files_stop_preparation_naming_the_file_and_nothing_is_written()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "images");
        Fixtures.WriteImage(Path.Combine(root, "good.png"), Fixtures.RandomPixels(16, 16, 3, 1), 16, 16, 3);
        Fixtures.WriteImage(Path.Combine(root, "full.jpg"), Fixtures.RandomPixels(16, 16, 3, 2), 16, 16, 3);
        var jpeg = File.ReadAllBytes(Path.Combine(root, "full.jpg"));
        File.WriteAllBytes(Path.Combine(root, "truncated.jpg"), jpeg[..(jpeg.Length / 2)]);
        File.WriteAllText(Path.Combine(root, "fake.png"), "this is text, not a PNG");
        var output = dir.File("out.safetensors");
        var e = Assert.Throws<InvalidDataException>(() => DatasetPreparer.Run(new ImageFolderSource(root), output, new PrepareOptions(8, 3)));
        Assert.Matches("(truncated\\.jpg|fake\\.png)", e.Message);
        AssertNothingWritten(dir, output);
    }

    [Fact]
    public void Skip_bad_reports_how_many_files_were_skipped_and_why()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "images");
        for (var i = 0; i < 4; i++) Fixtures.WriteImage(Path.Combine(root, $"good{i}.png"), Fixtures.RandomPixels(16, 16, 3, i), 16, 16, 3);
        File.WriteAllText(Path.Combine(root, "fake.png"), "text");
        Fixtures.WriteImage(Path.Combine(root, "tiny.png"), Fixtures.RandomPixels(4, 4, 3, 9), 4, 4, 3);
        var result = DatasetPreparer.Run(new ImageFolderSource(root), dir.File("out.safetensors"), new PrepareOptions(8, 3, Crop: 12, SkipBad: true));
        Assert.Equal(4, result.Count);
        Assert.Equal(2, result.Skipped.Count);
        Assert.Contains(result.Skipped, s => s.Name.EndsWith("fake.png", StringComparison.Ordinal) && s.Reason.Contains("signature", StringComparison.Ordinal));
        Assert.Contains(result.Skipped, s => s.Name.EndsWith("tiny.png", StringComparison.Ordinal) && s.Reason.Contains("smaller than the 12x12 crop", StringComparison.Ordinal));
        using var prepared = PreparedDataset.Open(dir.File("out.safetensors"));
        Assert.Contains("\"skipped\":2", prepared.Provenance, StringComparison.Ordinal);
    }

    [Fact]
    public void Images_smaller_than_the_crop_are_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "images");
        Fixtures.WriteImage(Path.Combine(root, "small.png"), Fixtures.RandomPixels(10, 12, 3, 1), 10, 12, 3);
        var output = dir.File("out.safetensors");
        var e = Assert.Throws<InvalidDataException>(() => DatasetPreparer.Run(new ImageFolderSource(root), output, new PrepareOptions(8, 3, Crop: 11)));
        Assert.Contains("small.png", e.Message, StringComparison.Ordinal);
        Assert.Contains("12x10, smaller than the 11x11 crop", e.Message, StringComparison.Ordinal);
        AssertNothingWritten(dir, output);
    }

    [Fact]
    public void Empty_folder_is_an_error()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "empty"));
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderSource(Path.Combine(dir.Path, "empty")));
        Assert.Contains("no JPEG, PNG or BMP images", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_files_raw_or_gzip_are_read(bool gzip)
    {
        using var dir = new TempDir();
        var pixels = Fixtures.RandomPixels(5 * 6, 7, 1, 4);
        var path = dir.File(gzip ? "images.idx.gz" : "images.idx");
        Fixtures.WriteIdx(path, pixels, 5, 6, 7, gzip: gzip);
        var source = new IdxSource(path);
        Assert.Equal((5, 6, 7), (source.Count, source.Rows, source.Columns));
        Assert.Equal(pixels.AsSpan(42, 42).ToArray(), source.ReadRaw(1));
    }

    [Fact]
    public void Idx_with_wrong_magic_or_short_payload_is_an_error()
    {
        using var dir = new TempDir();
        var wrongMagic = dir.File("labels.idx");
        Fixtures.WriteIdx(wrongMagic, new byte[10], 10, 1, 1, magic: 0x00000801);
        Assert.Contains("magic is 0x00000801", Assert.Throws<InvalidDataException>(() => new IdxSource(wrongMagic)).Message, StringComparison.Ordinal);
        var shortPayload = dir.File("short.idx.gz");
        Fixtures.WriteIdx(shortPayload, new byte[100], 10, 4, 4, gzip: true);
        var e = Assert.Throws<InvalidDataException>(() => new IdxSource(shortPayload));
        Assert.Contains("payload has 100 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("10 x 4 x 4 = 160", e.Message, StringComparison.Ordinal);
        var tiny = dir.File("tiny.idx");
        File.WriteAllBytes(tiny, [0, 0, 8]);
        Assert.Contains("shorter than 16 bytes", Assert.Throws<InvalidDataException>(() => new IdxSource(tiny)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Area_resize_averages_exactly()
    {
        // 4x4 -> 2x2 averages 2x2 blocks; 3 -> 2 gives weights (2/3, 1/3) and (1/3, 2/3).
        var block = new DecodedImage([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150], 4, 4, 1);
        Assert.Equal(new byte[] { 25, 45, 105, 125 }, new SquareTransform(2).Apply(block, "block"));
        var weights = SquareTransform.AreaWeights(3, 2);
        Assert.Equal(0, weights[0].start);
        Assert.Equal(new[] { 2 / 3.0, 1 / 3.0 }, weights[0].weights, new ToleranceComparer(1e-12));
        Assert.Equal(1, weights[1].start);
        Assert.Equal(new[] { 1 / 3.0, 2 / 3.0 }, weights[1].weights, new ToleranceComparer(1e-12));
        // Centre crop of a 2x4 image to 2x2 keeps the middle columns.
        var wide = new DecodedImage([1, 2, 3, 4, 5, 6, 7, 8], 2, 4, 1);
        Assert.Equal(new byte[] { 2, 3, 6, 7 }, new SquareTransform(2).Apply(wide, "wide"));
    }

    [FashionMnistFact]
    public void Fashion_mnist_prepares_a_seeded_subset_with_a_disjoint_held_out_split()
    {
        using var dir = new TempDir();
        var source = IdxSource.FashionMnist();
        Assert.Equal(60000, source.Count);
        var output = dir.File("fmnist.safetensors");
        DatasetPreparer.Run(source, output, new PrepareOptions(Resolution: 28, Channels: 1, Count: 300, HeldOut: 100, Seed: 2));
        using var prepared = PreparedDataset.Open(output);
        Assert.Equal((300, 100, 1, 28), (prepared.Count, prepared.HeldOutCount, prepared.Channels, prepared.Height));
        var train = new HashSet<string>();
        var image = new byte[784];
        for (var i = 0; i < prepared.Count; i++)
        {
            prepared.ReadImage(i, image);
            train.Add(Convert.ToBase64String(image));
        }
        for (var i = 0; i < prepared.HeldOutCount; i++)
        {
            prepared.ReadHeldOut(i, image);
            Assert.DoesNotContain(Convert.ToBase64String(image), train);
        }
    }

    [Fact]
    public void Options_outside_their_ranges_name_the_option()
    {
        Assert.Contains("channels = 2", Assert.ThrowsAny<ArgumentException>(() => new PrepareOptions(8, 2).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("resolution = 0", Assert.ThrowsAny<ArgumentException>(() => new PrepareOptions(0).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("heldout = -1", Assert.ThrowsAny<ArgumentException>(() => new PrepareOptions(8, HeldOut: -1).Validate()).Message, StringComparison.Ordinal);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
