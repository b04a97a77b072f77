using AmbientDiffusion.Cli;
using AmbientDiffusion.Representation;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

public class RepresentationTests
{
    private static readonly ContrastiveOptions Fast = new(Epochs: 2, BatchSize: 12, PositivesPerSet: 3, Seed: 7);

    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    [Theory]
    [InlineData("multi")]
    [InlineData("pairs")]
    public void Contrastive_loss_and_gradient_equal_pytorch_within_1e_5_relative(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "contrastive_loss_reference.safetensors"));
        var temperature = double.Parse(file.Metadata["temperature"], System.Globalization.CultureInfo.InvariantCulture);
        var embeddings = file.GetTensor($"{name}/embeddings").requires_grad_();
        var ids = file.GetTensor($"{name}/ids").data<float>().Select(v => (long)v).ToArray();
        var loss = MultiPositiveContrastiveLoss.Compute(embeddings, ids, temperature);
        loss.backward();
        var expected = file.GetTensor($"{name}/loss").item<float>();
        Assert.Equal(expected, loss.item<float>(), 1e-5 * expected);
        var grad = embeddings.grad!.data<float>();
        var expectedGrad = file.GetTensor($"{name}/grad").data<float>();
        var scale = expectedGrad.Max(Math.Abs);
        for (var i = 0; i < grad.Length; i++) Assert.Equal(expectedGrad[i], grad[i], 1e-5 * scale);
    }

    [Fact]
    public void An_anchor_without_a_positive_is_an_error()
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => MultiPositiveContrastiveLoss.Compute(torch.randn([3, 4]), [0, 0, 1], 0.1));
        Assert.Contains("anchor 2 (positive id 1) has no positive", e.Message);
    }

    [Theory]
    [InlineData(PositiveKind.Class)]
    [InlineData(PositiveKind.Group)]
    [InlineData(PositiveKind.Instance)]
    public void Every_row_has_a_positive_and_every_usable_image_appears_once_per_epoch(PositiveKind kind)
    {
        // 3 classes of 11 images, or groups of 4 (the last group has 1 image and cannot be used).
        var ids = Enumerable.Range(0, 33).Select(i => kind == PositiveKind.Group ? (long)(i / 4) : i % 3).ToArray();
        var batches = ContrastiveBatches.Epoch(ids, kind, batchSize: 10, perSet: 4, seed: 3, epoch: 1);
        foreach (var batch in batches)
            for (var i = 0; i < batch.PositiveIds.Length; i++)
                Assert.Contains(Enumerable.Range(0, batch.PositiveIds.Length), j => j != i && batch.PositiveIds[j] == batch.PositiveIds[i]);
        var seen = batches.SelectMany(b => b.Images).ToList();
        if (kind == PositiveKind.Instance) Assert.Equal(Enumerable.Range(0, 33).SelectMany(i => new long[] { i, i }).Order(), seen.Order());
        else Assert.Equal(Enumerable.Range(0, kind == PositiveKind.Group ? 32 : 33).Select(i => (long)i), seen.Order());
        var again = ContrastiveBatches.Epoch(ids, kind, batchSize: 10, perSet: 4, seed: 3, epoch: 1);
        Assert.Equal(batches.SelectMany(b => b.Images), again.SelectMany(b => b.Images));
        Assert.NotEqual(batches.SelectMany(b => b.Images), ContrastiveBatches.Epoch(ids, kind, batchSize: 10, perSet: 4, seed: 3, epoch: 2).SelectMany(b => b.Images));
    }

    [Fact]
    public void Sets_of_single_images_only_are_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => ContrastiveBatches.Epoch([0, 1, 2], PositiveKind.Group, 4, 2, 0, 0));
        Assert.Contains("no group has two or more images", e.Message);
    }

    [Fact]
    public void The_encoder_is_small_and_maps_images_to_unit_features()
    {
        using var scope = torch.NewDisposeScope();
        using var encoder = new ContrastiveEncoder(new Classification.ClassifierGeometry(1, 28, 28), 0);
        Assert.Equal(117_888, encoder.parameter_count());
        var features = ContrastiveTrainer.NormalisedFeatures(encoder, torch.randint(0, 256, [5, 1, 28, 28], ScalarType.Byte));
        Assert.Equal([5L, ContrastiveEncoder.FeatureDimension], features.shape);
        Assert.All(features.norm([1]).data<float>(), n => Assert.Equal(1f, n, 1e-5f));
    }

    [Fact]
    public void Augmentation_is_keyed_by_seed_epoch_and_batch_and_keeps_the_shape()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.rand([4, 1, 8, 8]);
        var options = new AugmentationOptions();
        var a = ImageAugmentation.Apply(x, options, 1, 0, 0);
        Assert.Equal(x.shape, a.shape);
        Assert.Equal(a.data<float>(), ImageAugmentation.Apply(x, options, 1, 0, 0).data<float>());
        Assert.NotEqual(a.data<float>(), ImageAugmentation.Apply(x, options, 1, 0, 1).data<float>());
        var identity = ImageAugmentation.Apply(x, new AugmentationOptions(0, 1, 0, 0), 1, 0, 0);
        Assert.Equal(x.data<float>(), identity.data<float>());
    }

    [Fact]
    public void The_probe_runs_end_to_end_deterministically_and_writes_its_report()
    {
        using var dir = new TempDir();
        var real = CasFixtures.ClassFolder(dir, "real", 36, seed: 1);
        var test = CasFixtures.ClassFolder(dir, "test", 18, seed: 2);
        var synthetic = CasFixtures.SyntheticNpz(dir, "synthetic", 24, seed: 3, groupSize: 3);
        var options = new RepresentOptions(PositiveKind.Group, Fast, new LinearProbeOptions(Epochs: 5, BatchSize: 8), ProbeTrainImages: 30);
        var first = RepresentationProbe.Run(synthetic, real, test, options, Device.CPU);
        var second = RepresentationProbe.Run(synthetic, real, test, options, Device.CPU);
        Assert.Equal(first.SyntheticEncoder.EpochLosses, second.SyntheticEncoder.EpochLosses);
        Assert.Equal(first.RealEncoder.EpochLosses, second.RealEncoder.EpochLosses);
        Assert.Equal(first.SyntheticEncoder.Top1, second.SyntheticEncoder.Top1);
        Assert.Equal(first.RealEncoder.Top1, second.RealEncoder.Top1);
        Assert.Equal("group", first.SyntheticEncoder.Positives);
        Assert.Equal("instance", first.RealEncoder.Positives);
        Assert.Equal(24, first.RealEncoder.TrainImages);
        Assert.Equal(30, first.ProbeTrainImages);
        Assert.Equal(2, first.SyntheticEncoder.EpochLosses.Length);
        Assert.All(first.SyntheticEncoder.EpochLosses, l => Assert.True(double.IsFinite(l) && l > 0));

        var output = dir.File("represent");
        Assert.Equal(0, Ambient("represent", "--synthetic", synthetic, "--real", real, "--real-test", test, "-o", output, "--positives", "class",
            "--epochs", "1", "--batch-size", "12", "--per-set", "3", "--probe-images", "30", "--probe-epochs", "3", "--device", "cpu"));
        var written = RepresentationReportWriter.Read(output);
        Assert.Equal("class", written.SyntheticEncoder.Positives);
        Assert.Equal(written.SyntheticEncoder.Top1 / written.RealEncoder.Top1, written.SyntheticOverReal);
        var html = File.ReadAllText(Path.Combine(output, RepresentationReportWriter.HtmlFile));
        System.Xml.Linq.XDocument.Parse(html);
        Assert.Contains($"data-key=\"/real_encoder/top1\" data-value=\"{written.RealEncoder.Top1.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}\"", html);
    }

    [Fact]
    public void Group_positives_without_groups_and_bad_options_are_clear_errors()
    {
        using var dir = new TempDir();
        var real = CasFixtures.ClassFolder(dir, "real", 9, seed: 1);
        var synthetic = CasFixtures.SyntheticNpz(dir, "synthetic", 9, seed: 3);
        var e = Assert.Throws<InvalidDataException>(() => RepresentationProbe.Run(synthetic, real, real, new RepresentOptions(PositiveKind.Group, Fast), Device.CPU));
        Assert.Contains("needs a 'groups' array", e.Message);
        Assert.Equal(1, Ambient("represent", "--synthetic", synthetic, "--real", real, "-o", dir.File("out"), "--device", "cpu"));
        Assert.Equal(1, Ambient("represent", "--synthetic", synthetic, "--real", real, "--real-test", real, "--positives", "views", "-o", dir.File("out"), "--device", "cpu"));
        Assert.Equal(1, Ambient("represent", "--synthetic", synthetic, "--real", real, "--real-test", real, "--temperature", "0", "-o", dir.File("out"), "--device", "cpu"));
        Assert.False(Directory.Exists(dir.File("out")));
        Assert.Equal("fashion-mnist:test", RepresentationProbe.DefaultRealTest("fashion-mnist"));
    }
}
