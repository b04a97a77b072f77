using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Classification;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Tests;

/// <summary>Skips a theory, with the reason shown, when Debian's Fashion-MNIST test images are not installed.</summary>
public sealed class FashionMnistTheoryAttribute : TheoryAttribute
{
    public FashionMnistTheoryAttribute()
    {
        if (!File.Exists(Path.Combine(IdxSource.FashionMnistDirectory, "t10k-images-idx3-ubyte.gz")))
            Skip = $"Fashion-MNIST is not installed under {IdxSource.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)";
    }
}

/// <summary>
/// The published check for an MNIST-family feature space (Heusel et al. 2017, FID): the Fréchet distance between real
/// images and distorted real images must rise with the distortion's strength. Uses the committed Fashion-MNIST
/// classifier (Fixtures/make_fmnist_classifier.sh) and real test-set images it never saw.
/// </summary>
public class ClassifierFeatureSpaceTests
{
    private const int SetSize = 1000;
    private const int Side = 28;

    private static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fmnist_classifier.safetensors");

    /// <summary>Additive Gaussian noise of standard deviation <paramref name="sigma"/> (fraction of the pixel range).</summary>
    private static byte[] Noise(byte[] image, double sigma, SeededRandom random) =>
        image.Select(v => (byte)Math.Clamp(Math.Round(v + 255 * sigma * random.NextGaussian()), 0, 255)).ToArray();

    /// <summary>Separable Gaussian blur of standard deviation <paramref name="sigma"/> pixels, edges clamped.</summary>
    private static byte[] Blur(byte[] image, double sigma)
    {
        var radius = (int)Math.Ceiling(3 * sigma);
        var kernel = Enumerable.Range(-radius, 2 * radius + 1).Select(d => Math.Exp(-d * d / (2 * sigma * sigma))).ToArray();
        var total = kernel.Sum();
        double Tap(Func<int, double> at) => kernel.Select((w, k) => w * at(k - radius)).Sum() / total;
        var rows = new double[Side * Side];
        for (var y = 0; y < Side; y++)
            for (var x = 0; x < Side; x++)
                rows[y * Side + x] = Tap(d => image[y * Side + Math.Clamp(x + d, 0, Side - 1)]);
        var output = new byte[Side * Side];
        for (var y = 0; y < Side; y++)
            for (var x = 0; x < Side; x++)
                output[y * Side + x] = (byte)Math.Clamp(Math.Round(Tap(d => rows[Math.Clamp(y + d, 0, Side - 1) * Side + x])), 0, 255);
        return output;
    }

    /// <summary>A black square of side <paramref name="size"/> centred at a random point of the image's middle.</summary>
    private static byte[] Mask(byte[] image, int size, SeededRandom random)
    {
        var output = (byte[])image.Clone();
        var (cy, cx) = (8 + random.NextInt(13), 8 + random.NextInt(13));
        for (var y = Math.Max(0, cy - size / 2); y < Math.Min(Side, cy - size / 2 + size); y++)
            for (var x = Math.Max(0, cx - size / 2); x < Math.Min(Side, cx - size / 2 + size); x++)
                output[y * Side + x] = 0;
        return output;
    }

    public static TheoryData<string> Distortions => ["noise", "blur", "mask"];

    [FashionMnistTheory]
    [MemberData(nameof(Distortions))]
    public void Classifier_feature_distance_rises_with_distortion_strength(string distortion)
    {
        var test = IdxSource.FashionMnist(train: false);
        var reference = Enumerable.Range(0, SetSize).Select(test.ReadRaw).ToList();
        var compared = Enumerable.Range(SetSize, SetSize).Select(test.ReadRaw).ToList();
        double[] strengths = distortion switch { "noise" => [0.05, 0.1, 0.2, 0.3, 0.4], "blur" => [0.5, 1, 1.5, 2, 3], _ => [4, 8, 12, 16, 20] };
        using var extractor = ClassifierFeatureExtractor.Open(FixturePath);
        using var scope = torch.NewDisposeScope();
        Tensor Features(IEnumerable<byte[]> images) => extractor.Extract(torch.tensor(images.SelectMany(i => i).ToArray(), [SetSize, 1, Side, Side]));
        var referenceFeatures = Features(reference);
        var distances = new List<double> { FrechetDistance.Compute(referenceFeatures, Features(compared)) };
        foreach (var strength in strengths)
        {
            var random = new SeededRandom(17, (ulong)(strength * 100));
            var distorted = compared.Select(image => distortion switch
            {
                "noise" => Noise(image, strength, random),
                "blur" => Blur(image, strength),
                _ => Mask(image, (int)strength, random),
            });
            distances.Add(FrechetDistance.Compute(referenceFeatures, Features(distorted)));
        }
        for (var i = 1; i < distances.Count; i++)
            Assert.True(distances[i] > distances[i - 1], $"{distortion}: FD {string.Join(", ", distances.Select(d => d.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))} (undistorted first, then strengths {string.Join(", ", strengths)}) is not rising");
    }
}
