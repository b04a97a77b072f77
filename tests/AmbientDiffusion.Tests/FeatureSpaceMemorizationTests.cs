using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Tests;

/// <summary>Memorization measured in a network's feature space (the in-product classifier) and per-sample scores.</summary>
public class FeatureSpaceMemorizationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string ClassifierFixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fmnist_classifier.safetensors");

    [FashionMnistFact]
    public void Planted_copies_are_flagged_in_classifier_space_and_held_out_images_are_not()
    {
        using var dir = new TempDir();
        var source = IdxSource.FashionMnist(train: true);
        var train = Enumerable.Range(0, 300).Select(source.ReadRaw).ToList();
        var heldOut = Enumerable.Range(300, 100).Select(source.ReadRaw).ToList();
        var random = new SeededRandom(5, 1);
        byte[] Noisy(byte[] image) => image.Select(v => (byte)Math.Clamp(Math.Round(v + 255 * 0.03 * random.NextGaussian()), 0, 255)).ToArray();
        static byte[] Mirrored(byte[] image) => Enumerable.Range(0, 28 * 28).Select(i => image[i / 28 * 28 + 27 - i % 28]).ToArray();
        // Samples: 20 exact, 20 noisy and 20 mirrored copies of training images, then 40 held-out images never trained on.
        var samples = train.Take(20).Concat(train.Skip(20).Take(20).Select(Noisy)).Concat(train.Skip(40).Take(20).Select(Mirrored))
            .Concat(Enumerable.Range(400, 40).Select(source.ReadRaw)).ToList();
        var trainPath = MemorizationFixtures.WriteTrain(dir, train, heldOut, "train.safetensors", channels: 1, size: 28);
        var samplesPath = MemorizationFixtures.WriteSamples(dir, samples, "samples.safetensors", channels: 1, size: 28);
        using var extracted = EvaluationStage.OpenForMemorization([new FeatureSpec(FeatureExtractorKind.Classifier, ClassifierFixture)], Torch.Device.CPU);
        var report = MemorizationAnalyzer.Run(MemorizationFixtures.Options(samplesPath, trainPath, dir.File("report")) with { Extracted = extracted.Spaces });

        var space = report.Space("classifier");
        Assert.NotNull(space);
        Assert.Equal("cosine", space!.Metric);
        var rows = File.ReadAllLines(Path.Combine(dir.File("report"), PerSampleScores.FileName));
        var header = rows[0].Split(',');
        var cos = Array.IndexOf(header, "classifier_cos1");
        var nearest = Array.IndexOf(header, "classifier_nn");
        Assert.True(cos > 0 && nearest > 0, rows[0]);
        var cosines = rows.Skip(1).Select(r => double.Parse(r.Split(',')[cos], CultureInfo.InvariantCulture)).ToArray();
        var neighbours = rows.Skip(1).Select(r => int.Parse(r.Split(',')[nearest], CultureInfo.InvariantCulture)).ToArray();
        output.WriteLine($"classifier top-1 cosine: exact min {cosines[..20].Min():F4}, noisy min {cosines[20..40].Min():F4}, mirrored min {cosines[40..60].Min():F4}, held-out max {cosines[60..].Max():F4} median {Median(cosines[60..]):F4}");
        // Exact copies find themselves; noisy copies their source.
        for (var i = 0; i < 40; i++) Assert.Equal(i, neighbours[i]);
        Assert.All(cosines[..20], c => Assert.True(c > 0.9999, $"exact copy cosine {c}"));
        // The copy threshold that separates: every exact and noisy copy above the largest held-out similarity.
        var heldOutMax = cosines[60..].Max();
        Assert.All(cosines[..40], c => Assert.True(c > heldOutMax, $"copy cosine {c} not above the held-out maximum {heldOutMax}"));
        // Mirrored copies sit above the typical held-out image (the classifier is not mirror-invariant, so not all above the maximum).
        Assert.True(Median(cosines[40..60]) > Median(cosines[60..]), $"mirrored median {Median(cosines[40..60])} vs held-out median {Median(cosines[60..])}");
    }

    [Fact]
    public void Per_sample_scores_list_every_sample_with_its_nearest_training_image_in_every_space()
    {
        using var dir = new TempDir();
        var train = MemorizationFixtures.SmoothImages(30, seed: 3);
        var samples = train.Take(4).Concat(MemorizationFixtures.SmoothImages(6, seed: 9)).ToList();
        var report = MemorizationAnalyzer.Run(MemorizationFixtures.Options(MemorizationFixtures.WriteSamples(dir, samples), MemorizationFixtures.WriteTrain(dir, train, null), dir.File("report")));
        var rows = File.ReadAllLines(Path.Combine(dir.File("report"), PerSampleScores.FileName));
        Assert.Equal(1 + samples.Count, rows.Length);
        var header = rows[0].Split(',');
        foreach (var space in report.Spaces)
            Assert.Contains(space.Metric == "cosine" ? $"{space.Name}_cos1" : $"{space.Name}_d1", header);
        var (d1, nn) = (Array.IndexOf(header, "pixels_d1"), Array.IndexOf(header, "pixels_nn"));
        for (var i = 0; i < 4; i++)
        {
            var cells = rows[1 + i].Split(',');
            Assert.Equal(0.0, double.Parse(cells[d1], CultureInfo.InvariantCulture));
            Assert.Equal(i, int.Parse(cells[nn], CultureInfo.InvariantCulture));
        }
        var pixels = report.Space("pixels")!.Set(MemorizationAnalyzer.SamplesSet)!;
        var csvD1 = rows.Skip(1).Select(r => double.Parse(r.Split(',')[d1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(pixels.D1!.Max, csvD1.Max(), 5);
        Assert.StartsWith("4 of 10 samples within the copy threshold", MemorizationVerdict.Describe(report), StringComparison.Ordinal);
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
