using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Classification;

namespace AmbientDiffusion.Tests;

public class ClassifierTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Three separable classes of 1x12x12 images: a bright top half, left half or centre square, on noise.</summary>
    private static (Tensor Images, long[] Labels) Synthetic(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 144];
        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            for (var y = 0; y < 12; y++)
                for (var x = 0; x < 12; x++)
                {
                    var bright = labels[i] switch { 0 => y < 6, 1 => x < 6, _ => y is >= 3 and < 9 && x is >= 3 and < 9 };
                    pixels[i * 144 + y * 12 + x] = (byte)Math.Clamp((bright ? 170 : 70) + random.Next(-60, 61), 0, 255);
                }
        }
        return (torch.tensor(pixels, [count, 1, 12, 12]), labels);
    }

    private static readonly string[] Names = ["top", "left", "centre"];

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void Classifier_learns_a_separable_synthetic_set()
    {
        using var scope = torch.NewDisposeScope();
        var (train, trainLabels) = Synthetic(300, 1);
        var (test, testLabels) = Synthetic(150, 2);
        using var model = ClassifierTrainer.Train(train, trainLabels, 3, new ClassifierTrainingOptions(Epochs: 4, BatchSize: 32, Seed: 5));
        Assert.InRange(model.parameter_count(), 1000, 150_000);
        var report = ClassifierEvaluation.Evaluate(model, test, testLabels, Names);
        output.WriteLine($"top-1 {report.Top1:0.###} (needs 0.95); per class {string.Join(", ", report.PerClassAccuracy.Select(a => a.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)))} (each needs 0.9)");
        Assert.True(report.Top1 >= 0.95, $"top-1 {report.Top1}");
        Assert.Equal(150, report.Count);
        Assert.All(report.PerClassAccuracy, a => Assert.True(a >= 0.9, $"per-class {a}"));
    }

    [Fact]
    public void Same_seed_gives_bitwise_the_same_weights()
    {
        using var scope = torch.NewDisposeScope();
        var (train, labels) = Synthetic(96, 3);
        var options = new ClassifierTrainingOptions(Epochs: 1, BatchSize: 16, Seed: 11);
        using var first = ClassifierTrainer.Train(train, labels, 3, options);
        using var second = ClassifierTrainer.Train(train, labels, 3, options);
        using var other = ClassifierTrainer.Train(train, labels, 3, options with { Seed = 12 });
        var a = first.state_dict();
        var b = second.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var key in a.Keys) Assert.Equal(a[key].data<float>(), b[key].data<float>());
        Assert.NotEqual(a["conv1.weight"].data<float>(), other.state_dict()["conv1.weight"].data<float>());
    }

    [Fact]
    public void Checkpoint_round_trip_gives_identical_logits_and_features()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var (train, labels) = Synthetic(64, 4);
        var options = new ClassifierTrainingOptions(Epochs: 1, BatchSize: 16, Seed: 2);
        using var model = ClassifierTrainer.Train(train, labels, 3, options);
        var path = dir.File("clf.safetensors");
        ClassifierCheckpoint.Save(path, model, new ClassifierInfo(Names, model.Geometry, "abc123", 0.5, options, 64));
        using var loaded = ClassifierCheckpoint.Load(path);
        Assert.Equal(Names, loaded.Info.ClassNames);
        Assert.Equal(new ClassifierGeometry(1, 12, 12), loaded.Info.Geometry);
        Assert.Equal(("abc123", 0.5, options, 64), (loaded.Info.TrainingDataSha256, loaded.Info.HeldOutAccuracy, loaded.Info.Training, loaded.Info.TrainingImages));
        Assert.Equal(ClassifierEvaluation.Logits(model, train).data<float>(), ClassifierEvaluation.Logits(loaded.Model, train).data<float>());
        using var extractor = ClassifierFeatureExtractor.Open(path);
        var features = extractor.Extract(train);
        Assert.Equal([64L, ImageClassifier.FeatureDimension], features.shape);
        Assert.Equal(ClassifierEvaluation.Map(model, train, model.Features).data<float>(), features.data<float>());
        Assert.Equal(("classifier", false), (extractor.Name, extractor.UnitNormalized));
    }

    [Fact]
    public void Images_of_another_geometry_are_a_clear_error()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var (train, labels) = Synthetic(32, 5);
        var options = new ClassifierTrainingOptions(Epochs: 1, BatchSize: 16);
        using var model = ClassifierTrainer.Train(train, labels, 3, options);
        var path = dir.File("clf.safetensors");
        ClassifierCheckpoint.Save(path, model, new ClassifierInfo(Names, model.Geometry, "x", null, options, 32));
        using var extractor = ClassifierFeatureExtractor.Open(path);
        var e = Assert.Throws<ArgumentException>(() => extractor.Extract(torch.zeros([2, 3, 16, 16], ScalarType.Byte)));
        Assert.Contains("3x16x16", e.Message, StringComparison.Ordinal);
        Assert.Contains("1x12x12", e.Message, StringComparison.Ordinal);
        var notClassifier = Fixtures.PreparedDataset(dir, 2, 1, 4);
        Assert.Contains("not a classifier checkpoint", Assert.Throws<InvalidDataException>(() => ClassifierCheckpoint.Load(notClassifier)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_counts_the_confusion_matrix()
    {
        var report = new ClassificationReport([0, 1, 1, 2, 0, 2], [0, 1, 0, 2, 0, 1], ["a", "b", "c"]);
        Assert.Equal(4 / 6.0, report.Top1, 12);
        Assert.Equal([2 / 3.0, 0.5, 1.0], report.PerClassAccuracy);
        Assert.Equal(new long[,] { { 2, 1, 0 }, { 0, 1, 1 }, { 0, 0, 1 } }, report.Confusion);
        Assert.True(double.IsNaN(new ClassificationReport([0], [0], ["a", "b"]).PerClassAccuracy[1]));
        Assert.Contains("label[0] = 5", Assert.Throws<ArgumentException>(() => new ClassificationReport([0], [5], ["a", "b"])).Message, StringComparison.Ordinal);
    }
}
