using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>
/// The TorchScript feature extractors against PyTorch: small random-weight modules with the real networks' call
/// signatures and the features PyTorch computes with each preset's reference preprocessing
/// (Fixtures/torchscript/make_fixtures.py).
/// </summary>
public class TorchScriptFeatureTests
{
    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "torchscript", name);

    private static Dictionary<string, Tensor> Expected() => SafeTensors.Load(FixturePath("expected.safetensors"));

    /// <summary>The options the fixture script used for its torchscript:FILE case.</summary>
    private static readonly FeaturePreprocessing CustomPreprocessing = new()
    {
        InputRange = FeatureInputRange.MinusOneOne,
        Resize = FeatureResize.Exact(30, 30),
        Mean = [0.1f, -0.2f, 0.0f],
        Std = [0.5f, 0.8f, 1.2f],
        PadMultiple = 8,
    };

    private static IFeatureExtractor Create(string key, int batchSize = 64) => key switch
    {
        "inception" => FeatureExtractors.Create(FeatureSpec.Parse("inception:" + FixturePath("inception_like.pt")), Device.CPU, new() { BatchSize = batchSize }),
        "dinov2" => FeatureExtractors.Create(FeatureSpec.Parse("dinov2:" + FixturePath("dinov2_like.pt")), Device.CPU, new() { BatchSize = batchSize }),
        "dinov2_imagenet" => FeatureExtractors.Create(FeatureSpec.Parse("dinov2:" + FixturePath("dinov2_like.pt")), Device.CPU, new() { BatchSize = batchSize, Dinov2ImageNetNormalization = true }),
        "sscd" => FeatureExtractors.Create(FeatureSpec.Parse("sscd:" + FixturePath("sscd_like.pt")), Device.CPU, new() { BatchSize = batchSize }),
        "custom" => FeatureExtractors.Create(FeatureSpec.Parse("torchscript:" + FixturePath("plain_features.pt")), Device.CPU, new() { BatchSize = batchSize, TorchScript = CustomPreprocessing }),
        _ => throw new ArgumentException(key),
    };

    private static float MaxAbsDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData("inception", false)]
    [InlineData("dinov2", true)]
    [InlineData("dinov2_imagenet", true)]
    [InlineData("sscd", true)]
    [InlineData("custom", false)]
    public void Features_equal_pytorch_within_1e_5(string key, bool unitNormalized)
    {
        using var scope = torch.NewDisposeScope();
        var expected = Expected();
        using var extractor = Create(key);
        var features = extractor.Extract(expected["images"]);
        Assert.Equal(expected[key].shape, features.shape);
        Assert.Equal(Device.CPU, features.device);
        Assert.Equal(unitNormalized, extractor.UnitNormalized);
        Assert.True(MaxAbsDifference(features, expected[key]) < 1e-5f, $"{key}: max |C# - PyTorch| = {MaxAbsDifference(features, expected[key])}");
    }

    [Theory]
    [InlineData("inception")]
    [InlineData("dinov2")]
    [InlineData("sscd")]
    public void Batching_does_not_change_the_features(string key)
    {
        using var scope = torch.NewDisposeScope();
        var images = Expected()["images"];
        using var whole = Create(key, batchSize: 64);
        using var single = Create(key, batchSize: 3);
        Assert.True(MaxAbsDifference(whole.Extract(images), single.Extract(images)) < 1e-5f);
    }

    [Fact]
    public void Grayscale_images_are_replicated_to_three_channels()
    {
        using var scope = torch.NewDisposeScope();
        var gray = Expected()["images"].narrow(1, 0, 1).contiguous();
        using var extractor = Create("sscd");
        var fromGray = extractor.Extract(gray);
        var fromRgb = extractor.Extract(gray.repeat(1, 3, 1, 1));
        Assert.Equal(0f, MaxAbsDifference(fromGray, fromRgb));
    }

    [Fact]
    public void Progress_counts_the_images_done_after_each_batch()
    {
        using var scope = torch.NewDisposeScope();
        var reports = new List<long>();
        using var extractor = Create("inception", batchSize: 3);
        extractor.Extract(Expected()["images"], new SynchronousProgress(reports.Add));
        Assert.Equal([3L, 4L], reports);
    }

    [Theory]
    [InlineData("inception:missing.pt", "missing.pt", "does not exist")]
    [InlineData("sscd:corrupt.pt", "corrupt.pt", "is not a readable TorchScript archive")]
    [InlineData("dinov2:not_torchscript.pt", "not_torchscript.pt", "is not a readable TorchScript archive")]
    public void Unloadable_files_are_errors_naming_the_file(string spec, string file, string fragment)
    {
        var parsed = FeatureSpec.Parse(spec);
        var e = Assert.Throws<TorchException>(() => FeatureExtractors.Create(parsed with { File = FixturePath(parsed.File!) }, Device.CPU));
        Assert.Contains(file, e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void A_module_rejecting_return_features_is_an_error_naming_the_file()
    {
        using var scope = torch.NewDisposeScope();
        using var extractor = FeatureExtractors.Create(new FeatureSpec(FeatureExtractorKind.Inception, FixturePath("wrong_signature.pt")), Device.CPU);
        var e = Assert.Throws<TorchException>(() => extractor.Extract(Expected()["images"]));
        Assert.Contains("wrong_signature.pt", e.Message);
        Assert.Contains("return_features", e.Message);
    }

    [Fact]
    public void Dinov2_without_its_padding_fails_with_the_networks_message_and_file()
    {
        using var scope = torch.NewDisposeScope();
        using var extractor = FeatureExtractors.Create(new FeatureSpec(FeatureExtractorKind.TorchScript, FixturePath("dinov2_like.pt")), Device.CPU);
        var e = Assert.Throws<TorchException>(() => extractor.Extract(Expected()["images"]));
        Assert.Contains("dinov2_like.pt", e.Message);
        Assert.Contains("multiples of the patch size 14", e.Message);
    }

    [Fact]
    public void Images_with_other_channel_counts_are_refused()
    {
        using var scope = torch.NewDisposeScope();
        using var extractor = Create("sscd");
        var e = Assert.Throws<ArgumentException>(() => extractor.Extract(torch.zeros([1, 4, 20, 20], ScalarType.Byte)));
        Assert.Contains("4 channels", e.Message);
    }

    [Fact]
    public void Pixel_features_are_pixels_in_0_1_flattened()
    {
        using var scope = torch.NewDisposeScope();
        var images = Expected()["images"];
        using var extractor = FeatureExtractors.Create(FeatureSpec.Pixels, Device.CPU);
        var features = extractor.Extract(images);
        Assert.Equal([4L, 3L * 20 * 24], features.shape);
        Assert.Equal(0f, MaxAbsDifference(features, images.to(ScalarType.Float32).div(255).flatten(1)));
        Assert.False(extractor.UnitNormalized);
    }

    [Fact]
    public void A_missing_classifier_file_is_an_error_naming_it()
    {
        var e = Assert.ThrowsAny<Exception>(() => FeatureExtractors.Create(FeatureSpec.Parse("classifier:no-such-clf.safetensors"), Device.CPU));
        Assert.Contains("no-such-clf.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inconsistent_preprocessing_is_refused_before_loading()
    {
        var options = new FeatureExtractorOptions { TorchScript = new FeaturePreprocessing { Mean = [0.5f, 0.5f, 0.5f] } };
        var e = Assert.Throws<ArgumentException>(() => FeatureExtractors.Create(new FeatureSpec(FeatureExtractorKind.TorchScript, FixturePath("plain_features.pt")), Device.CPU, options));
        Assert.Contains("mean and std", e.Message);
    }

    [Fact]
    public void Short_side_resize_keeps_the_aspect_ratio_as_torchvision_does()
    {
        Assert.Equal((288L, 345L), FeatureResize.ShortSide(288).OutputSize(20, 24));
        Assert.Equal((345L, 288L), FeatureResize.ShortSide(288).OutputSize(24, 20));
        Assert.Equal((320L, 320L), FeatureResize.Exact(320, 320).OutputSize(24, 20));
    }

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
