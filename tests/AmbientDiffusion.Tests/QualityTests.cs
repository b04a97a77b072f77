using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Tests;

public class QualityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void Sample_quality_ranks_copies_of_held_out_data_above_noise()
    {
        using var dir = new TempDir();
        var prepared = ExperimentTests.SmoothPrepared(dir);
        using var scope = torch.NewDisposeScope();
        using (var file = AmbientDiffusion.Data.PreparedDataset.Open(prepared))
        {
            // "Samples" drawn from the same distribution (the training images) against pure noise.
            var good = file.Images();
            var noise = torch.randint(0, 256, good.shape, ScalarType.Byte, generator: new Generator(3));
            AmbientDiffusion.Sampling.SampleSet.Write(dir.File("good"), good, Enumerable.Range(0, 24).Select(i => (ulong)i).ToList(), new Dictionary<string, string>());
            AmbientDiffusion.Sampling.SampleSet.Write(dir.File("noise"), noise, Enumerable.Range(0, 24).Select(i => (ulong)i).ToList(), new Dictionary<string, string>());
        }
        var good1 = SampleQuality.Measure(Path.Combine(dir.File("good"), "samples.safetensors"), prepared, 4);
        var bad = SampleQuality.Measure(Path.Combine(dir.File("noise"), "samples.safetensors"), prepared, 4);
        Assert.Equal("heldout", good1.Reference);
        Assert.Equal(8, good1.ReferenceCount);
        Assert.Equal(good1.FdSamples, good1.FdTrainBaseline!.Value, 10);
        output.WriteLine($"FD of noise {bad.FdSamples:0.##} against FD of held-out copies {good1.FdSamples:0.##} ({bad.FdSamples / good1.FdSamples:0.#}x; needs 2x)");
        Assert.True(bad.FdSamples > 2 * good1.FdSamples, $"{bad.FdSamples} vs {good1.FdSamples}");
        good1.Write(dir.Path);
        Assert.Equal(good1, SampleQuality.Read(dir.Path));
    }
}
