using AmbientDiffusion.Data;
using AmbientDiffusion.Torch.Imaging;

namespace AmbientDiffusion.Tests;

/// <summary>A temporary directory removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("ambient-test-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The YAML blocks that the whole-run tests on tiny 8x8 data (ExperimentTests, LoopRunTests, EmRunTests) share, so
/// that their network and analysis sizes are set in one place.
/// </summary>
internal static class TinyRunYaml
{
    /// <summary>A 1-block, 16-channel network at a single resolution, without attention or dropout.</summary>
    public const string Model = """
        model:
          model_channels: 16
          channel_mult: [1]
          num_blocks: 1
          attn_resolutions: []
          dropout: 0
        """;

    /// <summary>A memorization analysis sized for a few dozen 8x8 images, on the CPU.</summary>
    public const string MemorizationOnCpu = """
        memorization:
          downsample: 4
          baseline_queries: 8
          carlini_neighbors: 5
          worst_count: 2
        device:
          type: cpu
        """;
}

/// <summary>Skips a test, with the reason shown, when Debian's Fashion-MNIST package is not installed.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!System.IO.File.Exists(System.IO.Path.Combine(IdxSource.FashionMnistDirectory, "train-images-idx3-ubyte.gz")))
            Skip = $"Fashion-MNIST is not installed under {IdxSource.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)";
    }
}

/// <summary>Writes small image fixtures through the binding's encoders.</summary>
public static class Fixtures
{
    /// <summary>A deterministic random RGB image, HWC.</summary>
    public static byte[] RandomPixels(int height, int width, int channels, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[height * width * channels];
        random.NextBytes(pixels);
        return pixels;
    }

    public static void WriteImage(string path, byte[] hwc, int height, int width, int channels)
    {
        using var scope = torch.NewDisposeScope();
        var image = torch.tensor(hwc, [height, width, channels]);
        var bytes = path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) ? ImageCodec.EncodeJpeg(image, 95) : ImageCodec.EncodePng(image);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, bytes);
    }

    /// <summary>Writes a prepared dataset of random images and returns its path.</summary>
    public static string PreparedDataset(TempDir dir, int count, int channels, int size, int seed = 0, string name = "prepared.safetensors")
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(seed);
        var bytes = new byte[count * channels * size * size];
        random.NextBytes(bytes);
        var path = dir.File(name);
        AmbientDiffusion.Data.PreparedDataset.Write(path, torch.tensor(bytes, [count, channels, size, size]), null, new { Source = "test" });
        return path;
    }

    /// <summary>Writes an IDX image file (optionally gzip-compressed).</summary>
    public static void WriteIdx(string path, byte[] pixels, int count, int rows, int columns, uint magic = 0x00000803, bool gzip = false)
    {
        var header = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, magic);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)count);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), (uint)rows);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), (uint)columns);
        using var file = System.IO.File.Create(path);
        using Stream stream = gzip ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest) : file;
        stream.Write(header);
        stream.Write(pixels);
    }
}
